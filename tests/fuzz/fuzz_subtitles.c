/* The subtitle writers (SubRip, WebVTT) and the cue preparation for mov_text and burned-in text: cues made
 * from the input (each line a cue; times from the line's first bytes). */
#include "fuzz_util.h"
#include "compose/compose.h"
#include "compose/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CUES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lv_compose_cue cues[MAX_CUES];
	lv_cue_list list;
	char *text = lv_fuzz_text(data, size), *p = text, srt[256], vtt[256];
	size_t n = 0;
	while (p && n < MAX_CUES) {
		char *nl = strchr(p, '\n');
		unsigned char a = (unsigned char)p[0], b = a ? (unsigned char)p[1] : 0;
		if (nl)
			*nl = '\0';
		/* Times in tenths of a second; a few odd ones (negative, reversed, huge) on purpose. */
		cues[n].start = a == 0xff ? -1.0 : a / 10.0;
		cues[n].end = b == 0xff ? 1e12 : cues[n].start + (b % 64) / 10.0 - (b & 0x80 ? 1.0 : 0.0);
		cues[n].text = a && b ? p + 2 : p;
		n++;
		p = nl ? nl + 1 : NULL;
	}
	static const double cuts[] = { 2.0, 4.5, 9.0, 30.0 };
	snprintf(srt, sizeof(srt), "%s/fuzz.srt", lv_fuzz_dir());
	snprintf(vtt, sizeof(vtt), "%s/fuzz.vtt", lv_fuzz_dir());
	lv_subtitles_write(cues, n, srt, vtt);
	if (lv_cues_prepare(&list, cues, n, 60.0, 42, cuts, sizeof(cuts) / sizeof(cuts[0])) == LV_OK) {
		size_t i;
		for (i = 0; i < list.n; i++) {
			AVPacket *pkt = av_packet_alloc();
			if (pkt && lv_movtext_sample(pkt, list.cues[i].text) == LV_OK && pkt->size < 2)
				__builtin_trap();
			av_packet_free(&pkt);
		}
		lv_cues_free(&list);
	}
	unlink(srt);
	unlink(vtt);
	free(text);
	return 0;
}
