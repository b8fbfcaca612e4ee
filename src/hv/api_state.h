/* The control API's snapshot and migration requests (api_state.c), called by api.c. */
#ifndef RV_HV_API_STATE_H
#define RV_HV_API_STATE_H

#include <jansson.h>

#include "hv/api_schema.h"
#include "rvisor/vm.h"

/* Handles `call` if it is a state request: returns 1 with *result (or *rc set on failure),
 * 0 if the request is not one of them. */
int rv_api_state_dispatch(struct rv_vm *vm, struct rv_api_call *call, json_t **result,
                          int *rc);

#endif
