/*
 * Internal: the subtitle band, the bottom strip of a w x h picture that
 * subtitles can cover.  The burned subtitle style (lib/compose/subs.c) is
 * computed here, and the local renderer keeps every figure above the band's
 * top, so burned subtitles (and soft ones, which players draw in the same
 * place) never fall on a character.
 */
#ifndef LV_MEDIA_SUBBAND_H
#define LV_MEDIA_SUBBAND_H

#define LV_SUB_MAX_LINES 2 /* lines a cue may have (SPEC §9) */

typedef struct lv_sub_band {
	int font_px;         /* the style's font size (libass: the line's cell height) */
	int margin_lr;       /* left and right margins: the safe area is the middle 80 % of the width */
	int margin_v;        /* the bottom margin (higher in portrait) */
	float outline;       /* outline and shadow widths */
	float shadow;
	int top;             /* the first row that LV_SUB_MAX_LINES lines of the style can cover */
} lv_sub_band;

/* The band of a w x h picture. */
void lv_sub_band_of(lv_sub_band *out, int w, int h);

#endif
