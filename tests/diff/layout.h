/* Memory layout shared by the differential-test generator (gen.c) and the comparer (cmp.c).
 *
 * A generated program holds one block per random sequence in .data, each placed so that a
 * 4 KiB page boundary falls inside its scratch area. While sequence N runs, sp points at the
 * scratch area of block N, so the input table sits at negative offsets from sp, the output
 * area at positive ones, and the c.*sp instructions reach the scratch area. At the end the
 * program writes every block to stdout (one write(2) each) and exits; the two emulators'
 * outputs are compared block by block. */
#ifndef RV_DIFF_LAYOUT_H
#define RV_DIFF_LAYOUT_H

#define DIFF_IN_X     0    /* 32 x 8: initial x0..x31 (x0 and sp slots unused) */
#define DIFF_IN_F     256  /* 32 x 8: initial f0..f31 */
#define DIFF_IN_FCSR  512  /* 8: initial fcsr (frm always valid) */
#define DIFF_SCR      520  /* start of scratch memory; sp points here */
#define DIFF_SCR_SIZE 512  /* c.ldsp/c.sdsp reach offsets 0..504 */
#define DIFF_OUT_X    (DIFF_SCR + DIFF_SCR_SIZE) /* 32 x 8: final x0..x31 */
#define DIFF_OUT_F    (DIFF_OUT_X + 256)         /* 32 x 8: final f0..f31 */
#define DIFF_OUT_FCSR (DIFF_OUT_F + 256)         /* 8: final fcsr */
#define DIFF_BLOCK    (DIFF_OUT_FCSR + 8)        /* 1552 */

#endif
