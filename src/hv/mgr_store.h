/* The manager's state folder on disk: small JSON files written atomically (a temporary file,
 * fsync, rename, fsync of the folder), so that a crash at any point leaves either the old or
 * the new content, never a torn file. */
#ifndef RV_HV_MGR_STORE_H
#define RV_HV_MGR_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#define RV_MGR_TMP_SUFFIX ".tmp"

/* Writes `name` in the folder `dirfd` (AT_FDCWD: the working folder) atomically. Returns 0 or
 * a negative errno with rv_error_get() set. */
int rv_mgr_write_atomic(int dirfd, const char *name, const char *data, size_t len);
int rv_mgr_write_json(int dirfd, const char *name, json_t *value);

/* Reads a JSON object written by rv_mgr_write_json(); NULL when missing or malformed. */
json_t *rv_mgr_read_json(int dirfd, const char *name);

/* The last line of a text file (at most size - 1 bytes of it, printable ASCII), or "". */
void rv_mgr_last_line(int dirfd, const char *name, char *buf, size_t size);

/* Rotates a log file another process appends to (O_APPEND) once it is larger than `max`:
 * its content is copied to NAME.1 (atomically replaced), then it is truncated, so the writer
 * carries on at its start ("copytruncate": output written between the copy and the truncation
 * is lost). Returns 1 if rotated, 0 if not needed, or a negative errno with rv_error_get(). */
int rv_mgr_rotate_log(int dirfd, const char *name, off_t max);

/* Removes every file in the folder `name` of `parent` (not recursing: a VM folder holds
 * files only), then the folder. Returns 0 or a negative errno with rv_error_get() set. */
int rv_mgr_remove_dir(int parent, const char *name);

#endif
