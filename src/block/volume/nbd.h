/* NBD server for logical volumes (nbd.c). */
#ifndef RV_BLOCK_VOLUME_NBD_H
#define RV_BLOCK_VOLUME_NBD_H

#include <stdbool.h>

/* Listens on `addr` ("[HOST:]PORT", host 127.0.0.1 unless given) and serves every LV of every
 * VG in the devices list as export "VG/LV" until killed. Returns only on error. */
int rv_nbd_serve(const char *devices, const char *addr, bool readonly);

#endif
