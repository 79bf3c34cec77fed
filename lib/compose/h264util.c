/* H.264 parameter sets: read from avcC or Annex B extradata, compare, and write avcC. */
#include "compose/internal.h"
#include "util/error.h"

#include <string.h>

/* lv_av_err(): model/av.c */

static int add_nal(lv_h264_params *p, const uint8_t *nal, size_t len)
{
	int type;
	/* NAL units end with the rbsp stop bit: trailing zero bytes belong to the next start code. */
	while (len > 0 && nal[len - 1] == 0)
		len--;
	if (len == 0)
		return LV_OK;
	type = nal[0] & 0x1f;
	if (type == 7) {
		if (p->n_sps >= sizeof(p->sps) / sizeof(p->sps[0]))
			return LV_EINVALID;
		p->sps[p->n_sps] = nal;
		p->sps_len[p->n_sps++] = len;
	} else if (type == 8) {
		if (p->n_pps >= sizeof(p->pps) / sizeof(p->pps[0]))
			return LV_EINVALID;
		p->pps[p->n_pps] = nal;
		p->pps_len[p->n_pps++] = len;
	}
	return LV_OK;
}

static int parse_avcc(lv_h264_params *p, const uint8_t *d, size_t len)
{
	size_t pos = 5, i;
	int round;
	if (len < 7)
		return LV_EINVALID;
	for (round = 0; round < 2; round++) {
		size_t count;
		if (pos >= len)
			return LV_EINVALID;
		count = round == 0 ? (size_t)(d[pos] & 0x1f) : d[pos];
		pos++;
		for (i = 0; i < count; i++) {
			size_t n;
			if (pos + 2 > len)
				return LV_EINVALID;
			n = ((size_t)d[pos] << 8) | d[pos + 1];
			pos += 2;
			if (pos + n > len || n == 0)
				return LV_EINVALID;
			if (add_nal(p, d + pos, n) != LV_OK)
				return LV_EINVALID;
			pos += n;
		}
	}
	return LV_OK;
}

/* Offset of the next 00 00 01 at or after pos, or len. */
static size_t next_start(const uint8_t *d, size_t len, size_t pos)
{
	for (; pos + 3 <= len; pos++)
		if (d[pos] == 0 && d[pos + 1] == 0 && d[pos + 2] == 1)
			return pos;
	return len;
}

static int parse_annexb(lv_h264_params *p, const uint8_t *d, size_t len)
{
	size_t pos = next_start(d, len, 0);
	while (pos < len) {
		size_t begin = pos + 3, end = next_start(d, len, begin);
		if (add_nal(p, d + begin, end - begin) != LV_OK)
			return LV_EINVALID;
		pos = end;
	}
	return LV_OK;
}

int lv_h264_params_parse(lv_h264_params *out, const uint8_t *data, size_t len)
{
	int rc;
	memset(out, 0, sizeof(*out));
	if (!data || len < 4)
		return LV_EINVALID;
	rc = data[0] == 1 ? parse_avcc(out, data, len) : parse_annexb(out, data, len);
	if (rc != LV_OK || out->n_sps == 0 || out->n_pps == 0)
		return LV_EINVALID;
	return LV_OK;
}

int lv_h264_params_equal(const lv_h264_params *a, const lv_h264_params *b)
{
	size_t i;
	if (a->n_sps != b->n_sps || a->n_pps != b->n_pps)
		return 0;
	for (i = 0; i < a->n_sps; i++)
		if (a->sps_len[i] != b->sps_len[i] || memcmp(a->sps[i], b->sps[i], a->sps_len[i]))
			return 0;
	for (i = 0; i < a->n_pps; i++)
		if (a->pps_len[i] != b->pps_len[i] || memcmp(a->pps[i], b->pps[i], a->pps_len[i]))
			return 0;
	return 1;
}

int lv_h264_avcc(uint8_t **out, size_t *out_len, const lv_h264_params *p)
{
	size_t len = 7, i, pos;
	uint8_t *d;
	*out = NULL;
	*out_len = 0;
	if (p->n_sps == 0 || p->n_pps == 0 || p->sps_len[0] < 4)
		return lv_error_set(LV_EINVALID, "H.264 parameter sets: no SPS or PPS");
	for (i = 0; i < p->n_sps; i++)
		len += 2 + p->sps_len[i];
	for (i = 0; i < p->n_pps; i++)
		len += 2 + p->pps_len[i];
	d = av_mallocz(len + AV_INPUT_BUFFER_PADDING_SIZE);
	if (!d)
		return lv_error_nomem();
	d[0] = 1;
	d[1] = p->sps[0][1]; /* profile_idc */
	d[2] = p->sps[0][2]; /* constraint flags */
	d[3] = p->sps[0][3]; /* level_idc */
	d[4] = 0xff;         /* 4-byte NAL lengths */
	d[5] = (uint8_t)(0xe0 | p->n_sps);
	pos = 6;
	for (i = 0; i < p->n_sps; i++) {
		d[pos++] = (uint8_t)(p->sps_len[i] >> 8);
		d[pos++] = (uint8_t)(p->sps_len[i] & 0xff);
		memcpy(d + pos, p->sps[i], p->sps_len[i]);
		pos += p->sps_len[i];
	}
	d[pos++] = (uint8_t)p->n_pps;
	for (i = 0; i < p->n_pps; i++) {
		d[pos++] = (uint8_t)(p->pps_len[i] >> 8);
		d[pos++] = (uint8_t)(p->pps_len[i] & 0xff);
		memcpy(d + pos, p->pps[i], p->pps_len[i]);
		pos += p->pps_len[i];
	}
	*out = d;
	*out_len = pos;
	return LV_OK;
}

int lv_h264_annexb_to_mp4(AVPacket *pkt)
{
	const uint8_t *d = pkt->data;
	size_t len = (size_t)pkt->size, pos, out_len = 0;
	AVPacket *tmp;
	uint8_t *o;
	int err;
	if (len >= 4 && !(d[0] == 0 && d[1] == 0 && (d[2] == 1 || (d[2] == 0 && d[3] == 1))))
		return LV_OK; /* already length-prefixed */
	/* First pass: the output size. */
	for (pos = next_start(d, len, 0); pos < len;) {
		size_t begin = pos + 3, end = next_start(d, len, begin), n = end - begin;
		while (n > 0 && d[begin + n - 1] == 0 && end < len)
			n--;
		if (n > 0)
			out_len += 4 + n;
		pos = end;
	}
	tmp = av_packet_alloc();
	if (!tmp)
		return lv_error_nomem();
	err = av_new_packet(tmp, (int)out_len);
	if (err < 0) {
		av_packet_free(&tmp);
		return lv_error_nomem();
	}
	o = tmp->data;
	for (pos = next_start(d, len, 0); pos < len;) {
		size_t begin = pos + 3, end = next_start(d, len, begin), n = end - begin;
		while (n > 0 && d[begin + n - 1] == 0 && end < len)
			n--;
		if (n > 0) {
			o[0] = (uint8_t)(n >> 24);
			o[1] = (uint8_t)(n >> 16);
			o[2] = (uint8_t)(n >> 8);
			o[3] = (uint8_t)n;
			memcpy(o + 4, d + begin, n);
			o += 4 + n;
		}
		pos = end;
	}
	err = av_packet_copy_props(tmp, pkt);
	if (err < 0) {
		av_packet_free(&tmp);
		return lv_error_nomem();
	}
	av_packet_unref(pkt);
	av_packet_move_ref(pkt, tmp);
	av_packet_free(&tmp);
	return LV_OK;
}
