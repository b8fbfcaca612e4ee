#ifndef RV_CLI_VOL_H
#define RV_CLI_VOL_H

#include <stdbool.h>

/* `rvisor vol ...` (argv after "vol"); returns the exit status. */
int rv_cli_vol(int argc, char **argv);
/* pvs, vgs or lvs, as a table or JSON, on stdout (vol_report.c). */
int rv_cli_vol_report(const char *what, const char *devices, bool json);

#endif
