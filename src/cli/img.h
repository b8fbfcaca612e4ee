/* `rvisor img`: create, inspect and check disk images. */
#ifndef RV_CLI_IMG_H
#define RV_CLI_IMG_H

/* `argv[0]` is the first argument after "img"; returns the process exit status. */
int rv_cli_img(int argc, char **argv);

#endif
