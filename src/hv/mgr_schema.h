/* The manager's API (`rvisor serve`): the same line-delimited JSON protocol as the per-VM API
 * (hv/api_schema.h: framing, parser, replies, documentation generator) with its own requests.
 * docs/api.md's manager reference is generated from this schema and from the VM
 * configuration table (hv/mgr_config.h); tests/unit/test_mgr.c fails when they differ. */
#ifndef RV_HV_MGR_SCHEMA_H
#define RV_HV_MGR_SCHEMA_H

#include "hv/api_schema.h"

#define RV_MGR_NAME_MAX 64

extern const struct rv_api_schema rv_mgr_schema;

/* A VM name: 1..64 of [A-Za-z0-9_.-], not starting with '.' (names are directory names in
 * the state folder: no '/', no "." or "..", nothing hidden). Returns 0 or fills *err. */
int rv_mgr_check_name(const char *name, struct rv_api_error *err);

/* docs/api.md's manager reference: the requests, then the configuration fields. */
char *rv_mgr_schema_markdown(void);

#endif
