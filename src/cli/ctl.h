/* `rvisor ctl`: the command-line client of the control API (docs/api.md). */
#ifndef RV_CLI_CTL_H
#define RV_CLI_CTL_H

/* `argv[0]` is the first argument after "ctl"; returns the process exit status. */
int rv_cli_ctl(int argc, char **argv);

#endif
