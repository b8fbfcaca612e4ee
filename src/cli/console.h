/* `rvisor console NAME`: attaches the terminal to a managed VM's console socket. */
#ifndef RV_CLI_CONSOLE_H
#define RV_CLI_CONSOLE_H

/* Relays stdin (raw mode on a terminal) to the socket and the socket to stdout until the user
 * detaches (Ctrl-] or Ctrl-A X) or the VM ends. Returns the exit status (0, or 2 when the
 * socket cannot be reached). */
int rv_cli_console_attach(const char *name, const char *socket_path);

#endif
