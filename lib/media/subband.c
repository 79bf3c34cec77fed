/*
 * The subtitle band (media/subband.h): one computation for the burned style
 * and for the renderer's layout.
 */
#include "media/subband.h"

#include <math.h>

void lv_sub_band_of(lv_sub_band *out, int w, int h)
{
	int s = w < h ? w : h, fs = (int)lrint(0.055 * s), reach;
	if (fs < 12)
		fs = 12;
	out->font_px = fs;
	out->margin_lr = (int)(0.1 * w);
	out->margin_v = (int)((h > w ? 0.1 : 0.07) * h);
	out->outline = fs / 14.0f > 1.5f ? fs / 14.0f : 1.5f;
	out->shadow = fs / 28.0f > 1.0f ? fs / 28.0f : 1.0f;
	/* the lines (a glyph may reach a little above its cell: 1.2 cells a line), the outline above the
	 * top line and the shadow below the last one, and a quarter of a line of air above */
	reach = out->margin_v + (int)ceilf(1.2f * (float)(LV_SUB_MAX_LINES * fs) + 2.0f * out->outline + out->shadow +
	                                   0.25f * (float)fs);
	out->top = h - reach < 0 ? 0 : h - reach;
}
