/* `rvisor snapshot`, `rvisor restore`, `rvisor migrate` and `rvisor run --incoming`
 * (docs/state.md). */
#ifndef RV_CLI_STATE_CLI_H
#define RV_CLI_STATE_CLI_H

#include <stdbool.h>

#include "rvisor/vm.h"

int rv_cli_snapshot(int argc, char **argv);
int rv_cli_migrate(int argc, char **argv);
/* The VM of `rvisor restore FILE [--clone]` (file set) or `rvisor run --incoming FROM`
 * (incoming set), with the console of `cfg`. Returns 0, or -errno with rv_error_get() set. */
int rv_cli_vm_from_state(const char *file, bool clone, const char *incoming,
                         const struct rv_vm_config *cfg, struct rv_vm **vm);

#endif
