/* The `vol:VG/LV` block backend (vol_block.c), opened by rv_block_open. */
#ifndef RV_BLOCK_VOLUME_VOL_BLOCK_H
#define RV_BLOCK_VOLUME_VOL_BLOCK_H

#include "block/block.h"

/* `spec` is "VG/LV" (the part after "vol:"); the PVs are found through the devices list
 * ($RVISOR_VOL_DEVICES or ~/.config/rvisor/vol-devices, see docs/volumes.md). */
int rv_vol_block_open(const char *spec, const struct rv_block_opts *opts, struct rv_block **out);

#endif
