/* `rvimg ARGS...` = `rvisor img ARGS...`, so the block tests do not depend on the rest of the
 * command line being built. */
#include "cli/img.h"

int main(int argc, char **argv)
{
    return rv_cli_img(argc - 1, argv + 1);
}
