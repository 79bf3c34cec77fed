/* Internal (model layer): reading a media file's streams back (the tests, the composer, providers that
 * need an audio file's length). */
#ifndef LV_MODEL_PROBE_H
#define LV_MODEL_PROBE_H

typedef struct lv_media_info {
	double duration;          /* container duration, seconds */
	double video_duration;    /* from the video stream's packets */
	double audio_duration;
	int has_video, has_audio, has_subtitles;
	char video_codec[32], audio_codec[32], subtitle_codec[32];
	char video_profile[32];   /* e.g. "High" */
	int width, height;
	double fps;
	int audio_sample_rate, audio_channels;
	int subtitle_packets;     /* number of subtitle samples (cues); mov_text's empty gap samples not counted */
	int faststart;            /* 1 when the moov box comes before mdat */
	int video_frames;         /* number of video packets */
} lv_media_info;

int lv_media_probe(lv_media_info *out, const char *path);

#endif
