#include "longvideo/common.h"

const char *lv_version(void)
{
	return LV_VERSION;
}

unsigned int lv_version_number(void)
{
	return LV_VERSION_NUMBER;
}
