/* Flush-to-zero for the audio filters' floating point (see internal.h). */
#include "compose/internal.h"

#if defined(__SSE2__) || defined(__x86_64__)
#include <xmmintrin.h>

#define LV_MXCSR_DAZ 0x0040u /* denormals are zero */
#define LV_MXCSR_FTZ 0x8000u /* flush to zero */

unsigned lv_fpu_flush_denormals(void)
{
	unsigned saved = _mm_getcsr();
	_mm_setcsr(saved | LV_MXCSR_DAZ | LV_MXCSR_FTZ);
	return saved;
}

void lv_fpu_restore(unsigned saved)
{
	_mm_setcsr(saved);
}
#else
unsigned lv_fpu_flush_denormals(void)
{
	return 0;
}

void lv_fpu_restore(unsigned saved)
{
	(void)saved;
}
#endif
