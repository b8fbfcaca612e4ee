/* The manager's command line: `rvisor serve` runs it; create, start, stop, kill, delete,
 * info, list, console and vm talk to it (docs/manager.md). */
#ifndef RV_CLI_MANAGE_H
#define RV_CLI_MANAGE_H

#include <stdbool.h>

bool rv_cli_is_manage_command(const char *cmd);

/* argv[0] is the command; returns the process exit status: 0, 1 on an error reply, 2 on a
 * usage error or when the manager cannot be reached. */
int rv_cli_manage(int argc, char **argv);

#endif
