/* `rvisor ctl`: the command-line client of the control API (docs/api.md). */
#ifndef RV_CLI_CTL_H
#define RV_CLI_CTL_H

#include <jansson.h>

/* `argv[0]` is the first argument after "ctl"; returns the process exit status. */
int rv_cli_ctl(int argc, char **argv);

/* Prints a reply object: its result as indented JSON on stdout (returns 0), or its error as
 * "rvisor: CODE: MESSAGE" on stderr (returns 1). */
int rv_cli_print_reply(json_t *reply);

#endif
