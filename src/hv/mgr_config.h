/* A managed VM's configuration: a JSON object whose fields are `rvisor run`'s long options
 * ("mem": 256, "disk": ["/vm/a.qcow2,format=qcow2"], "balloon": true ...), checked and turned
 * into that command's arguments through one table (mgr_config.c): a new `rvisor run` option
 * is one more line there. Options the manager sets itself (--api-socket, --console,
 * --status-file) are not configuration fields. */
#ifndef RV_HV_MGR_CONFIG_H
#define RV_HV_MGR_CONFIG_H

#include <jansson.h>

#include "hv/api_schema.h"

/* Checks every field: known, of the right JSON type, in range; file paths absolute (the
 * manager does not share its client's working folder). Returns 0 or -EINVAL with *err. */
int rv_mgr_config_check(json_t *config, struct rv_api_error *err);

/* The `rvisor run` arguments of a checked configuration, as a new JSON array of strings
 * (fields in table order, so the same configuration always gives the same command). */
json_t *rv_mgr_config_to_args(json_t *config);

/* The reverse, for `rvisor create NAME --mem 256 --disk d.img ...`: builds a configuration
 * from run-style options; relative file paths are made absolute against `cwd`. Returns 0 and
 * a new object, or -EINVAL with *err. The result still has to pass rv_mgr_config_check(). */
int rv_mgr_config_from_options(int argc, char **argv, const char *cwd, json_t **out,
                               struct rv_api_error *err);

/* Makes the relative file paths of a configuration (read from a file by the client) absolute
 * against `base`. Fields of the wrong type are left for rv_mgr_config_check(). */
int rv_mgr_config_absolutize(json_t *config, const char *base, struct rv_api_error *err);

/* The table as Markdown (docs/api.md), malloc'd. */
char *rv_mgr_config_markdown(void);

#endif
