/*
 * lv-bench-render: the local renderer's cost per film second.
 *
 * Renders the shots of the offline demo film ("城市清晨的延时风光", four shots
 * of 8 + 8 + 7 + 7 s at 1280x720 with their camera moves) one after another
 * and prints the process CPU seconds spent per second of film and the speed
 * against real time on this machine (wall clock of one renderer; the pipeline
 * renders two shots at once on two cores).
 *
 *   lv-bench-render [--size WxH] [--repeat R] [--dir DIR] [--keep]   (--keep: leave the clips in DIR)
 */
#include "longvideo/errors.h"
#include "media/local.h"
#include "util/mem.h"

#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shot {
	double seconds;
	const char *camera, *text;
} shot;

static const shot demo[] = {
	{ 8, "wide establishing, high angle",
	  "\xe9\xbb\x8e\xe6\x98\x8e\xe5\x89\x8d\xe7\x9a\x84\xe8\x93\x9d\xe8\xb0\x83\xe6\x97\xb6\xe5\x88\xbb\xef\xbc\x8c"
	  "\xe5\x9f\x8e\xe5\xb8\x82\xe5\x85\xa8\xe6\x99\xaf" },                            /* 黎明前的蓝调时刻，城市全景 */
	{ 8, "close-up, shallow focus",
	  "\xe5\xa4\xa9\xe5\x88\x9a\xe7\xa0\xb4\xe6\x99\x93\xe6\x97\xb6\xe7\x9a\x84\xe7\x89\xb9\xe5\x86\x99\xef\xbc\x9a"
	  "\xe5\xa4\xa7\xe9\x81\x93\xe4\xb8\x8a\xe5\xb7\x9d\xe6\xb5\x81\xe4\xb8\x8d\xe6\x81\xaf\xe7\x9a\x84\xe8\xbd\xa6"
	  "\xe6\xb5\x81" }, /* 天刚破晓时的特写：大道上川流不息的车流 */
	{ 7, "orbit, low angle",
	  "\xe5\xa4\xaa\xe9\x98\xb3\xe8\xb7\x83\xe5\x87\xba\xe5\x9c\xb0\xe5\xb9\xb3\xe7\xba\xbf\xe7\x9a\x84\xe4\xb8\x80"
	  "\xe5\x88\xbb\xef\xbc\x8c\xe7\xb9\x81\xe5\xbf\x99\xe8\xb7\xaf\xe5\x8f\xa3" }, /* 太阳跃出地平线的一刻，繁忙路口 */
	{ 7, "pull out, high angle",
	  "\xe6\xb8\x85\xe6\x99\xa8\xe7\x9a\x84\xe5\x9f\x8e\xe5\xb8\x82\xef\xbc\x8c\xe4\xb8\x80\xe6\x89\x87\xe6\x89\x87"
	  "\xe4\xba\xae\xe8\xb5\xb7\xe7\x9a\x84\xe7\xaa\x97\xe6\x88\xb7" }, /* 清晨的城市，一扇扇亮起的窗户 */
};

static double now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	int w = 1280, h = 720, repeat = 3, keep = 0, i, r;
	const char *dir = "/tmp";
	double film = 0, best_cpu = 1e30, best_wall = 1e30;
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--size") && v && sscanf(v, "%dx%d", &w, &h) == 2)
			i++;
		else if (!strcmp(argv[i], "--repeat") && v)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && v)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else {
			fprintf(stderr, "usage: lv-bench-render [--size WxH] [--repeat R] [--dir DIR] [--keep]\n");
			return 2;
		}
	}
	av_log_set_level(AV_LOG_ERROR);
	for (i = 0; i < (int)(sizeof(demo) / sizeof(demo[0])); i++)
		film += demo[i].seconds;
	for (r = 0; r < (repeat > 0 ? repeat : 1); r++) {
		double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC), cpu, wall;
		for (i = 0; i < (int)(sizeof(demo) / sizeof(demo[0])); i++) {
			lv_render_params p;
			char *out = lv_asprintf("%s/lv-bench-render-%d.mp4", dir, i);
			if (!out)
				return 1;
			memset(&p, 0, sizeof(p));
			p.width = w;
			p.height = h;
			p.seconds = demo[i].seconds;
			p.seed = 1000u + (unsigned)i;
			p.text = demo[i].text;
			p.camera = demo[i].camera;
			p.language = "zh";
			if (lv_render_segment(&p, out)) {
				fprintf(stderr, "render: %s\n", lv_error_last()->message);
				free(out);
				return 1;
			}
			if (!keep)
				remove(out);
			free(out);
		}
		cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		wall = now(CLOCK_MONOTONIC) - w0;
		if (cpu < best_cpu)
			best_cpu = cpu;
		if (wall < best_wall)
			best_wall = wall;
	}
	printf("render %dx%d, %.0f s of film, best of %d\n", w, h, film, repeat);
	printf("  CPU per film second   %.3f s\n", best_cpu / film);
	printf("  one renderer          %.2fx real time (wall %.2f s)\n", film / best_wall, best_wall);
	printf("  CPU-bound, 2 cores    %.2fx real time\n", 2.0 * film / best_cpu);
	return 0;
}
