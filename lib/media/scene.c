#include "media/scene.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265f
#define MAX_LAYERS 6
#define MAX_CLOUDS 6
#define MAX_STARS 180
#define MAX_PARTS 150
#define MAX_WINDOWS 700
#define MAX_BEAMS 4

enum { K_MOUNTAINS, K_FOREST, K_CITY, K_SEA, K_DUNES, K_STAGE, K_COUNTRY, K_OPEN, K_COUNT };
/* P_MORNING .. P_GATHER are colours only: their scenes behave as P_DAY's (daylight) or P_STORM's (clouds) */
enum { P_DAWN, P_DAY, P_DUSK, P_NIGHT, P_MISTY, P_AUTUMN, P_SNOW, P_NEON, P_STORM, P_MORNING, P_NOON, P_AFTERNOON,
       P_GATHER, P_COUNT };
enum { PART_MOTES, PART_SNOW, PART_FIREFLIES, PART_SPARKS, PART_BOKEH, PART_RAIN };
/* T_MORNING, T_NOON, T_AFTERNOON: daylight (T_DAY) at a named part of the day */
enum { T_NONE = -1, T_DAWN, T_DAY, T_DUSK, T_NIGHT, T_MORNING, T_NOON, T_AFTERNOON };
enum { W_CLEAR, W_MIST, W_RAIN, W_STORM, W_SNOW, W_NEON, W_AUTUMN, W_GATHER /* clouds gathering, no rain yet */ };

/* sky top, sky middle, horizon, light, far layer, near layer */
static const float palettes[P_COUNT][6][3] = {
	[P_DAWN] = { { 38, 52, 110 }, { 150, 120, 170 }, { 255, 178, 140 }, { 255, 226, 180 }, { 128, 112, 160 },
	             { 34, 30, 60 } },
	[P_DAY] = { { 60, 128, 214 }, { 130, 185, 235 }, { 205, 230, 245 }, { 255, 251, 230 }, { 110, 150, 185 },
	            { 38, 84, 72 } },
	[P_DUSK] = { { 48, 34, 96 }, { 170, 80, 120 }, { 255, 150, 90 }, { 255, 214, 130 }, { 140, 72, 110 },
	             { 32, 18, 44 } },
	[P_NIGHT] = { { 6, 10, 32 }, { 18, 28, 70 }, { 44, 58, 110 }, { 232, 236, 255 }, { 30, 40, 82 },
	              { 8, 10, 26 } },
	[P_MISTY] = { { 58, 96, 108 }, { 130, 170, 170 }, { 200, 222, 210 }, { 245, 248, 235 }, { 120, 156, 156 },
	              { 24, 56, 62 } },
	[P_AUTUMN] = { { 84, 118, 170 }, { 190, 180, 170 }, { 246, 206, 150 }, { 255, 236, 190 }, { 176, 116, 84 },
	               { 70, 34, 30 } },
	[P_SNOW] = { { 120, 150, 200 }, { 180, 200, 228 }, { 236, 242, 250 }, { 255, 255, 245 }, { 178, 192, 218 },
	             { 96, 112, 148 } },
	[P_NEON] = { { 16, 8, 40 }, { 70, 20, 100 }, { 200, 50, 150 }, { 255, 130, 210 }, { 70, 26, 100 },
	             { 14, 6, 32 } },
	[P_STORM] = { { 34, 40, 52 }, { 70, 80, 94 }, { 120, 130, 140 }, { 200, 206, 214 }, { 62, 72, 84 },
	              { 18, 24, 30 } },
	/* morning: a pale, fresh blue, the horizon still warm; midday: deep blue overhead, white light;
	 * afternoon: a softer, hazier blue going amber at the horizon */
	[P_MORNING] = { { 92, 150, 214 }, { 168, 204, 232 }, { 238, 230, 212 }, { 255, 242, 212 }, { 140, 166, 190 },
	                { 46, 92, 80 } },
	[P_NOON] = { { 40, 110, 210 }, { 100, 168, 234 }, { 192, 224, 246 }, { 255, 255, 248 }, { 98, 138, 172 },
	             { 32, 88, 58 } },
	[P_AFTERNOON] = { { 64, 112, 180 }, { 146, 172, 204 }, { 236, 208, 160 }, { 255, 226, 160 }, { 150, 138, 140 },
	                  { 62, 78, 46 } },
	/* a storm gathering: slate clouds, the light not gone yet */
	[P_GATHER] = { { 52, 60, 78 }, { 98, 108, 124 }, { 150, 156, 160 }, { 214, 214, 206 }, { 84, 92, 104 },
	               { 28, 36, 42 } },
};

/* A word of a shot text and what it says.  Weight 3: a noun naming the place (or the time, the
 * weather); 1: an adjective or a weaker hint.  ASCII words match whole words (plural "s" allowed),
 * other scripts as substrings. */
typedef struct keyword {
	const char *word;
	int value, weight;
} keyword;

static const keyword kind_words[] = {
	/* city and roads */
	{ "city", K_CITY, 3 }, { "street", K_CITY, 3 }, { "town", K_CITY, 3 }, { "building", K_CITY, 3 },
	{ "skyline", K_CITY, 3 }, { "downtown", K_CITY, 3 }, { "rooftop", K_CITY, 3 }, { "road", K_CITY, 3 },
	{ "avenue", K_CITY, 3 }, { "boulevard", K_CITY, 3 }, { "traffic", K_CITY, 3 }, { "highway", K_CITY, 3 },
	{ "intersection", K_CITY, 3 }, { "crossroads", K_CITY, 3 }, { "skyscraper", K_CITY, 3 },
	{ "alley", K_CITY, 3 }, { "station", K_CITY, 2 }, { "market", K_CITY, 2 }, { "car", K_CITY, 1 },
	{ "urban", K_CITY, 1 }, { "metropolitan", K_CITY, 1 }, { "ville", K_CITY, 3 }, { "rue", K_CITY, 3 },
	{ "ciudad", K_CITY, 3 }, { "calle", K_CITY, 3 }, { "stadt", K_CITY, 3 }, { "stra\xc3\x9f" "e", K_CITY, 3 },
	{ "citt\xc3\xa0", K_CITY, 3 }, { "strada", K_CITY, 3 }, { "cidade", K_CITY, 3 }, { "rua", K_CITY, 3 },
	{ "\xe5\x9f\x8e\xe5\xb8\x82", K_CITY, 3 } /* 城市 */, { "\xe9\x83\xbd\xe5\xb8\x82", K_CITY, 3 } /* 都市 */,
	{ "\xe5\x9f\x8e", K_CITY, 2 } /* 城 */, { "\xe8\xa1\x97", K_CITY, 3 } /* 街 */,
	{ "\xe6\xa5\xbc", K_CITY, 3 } /* 楼 */, { "\xe5\xa4\xa7\xe9\x81\x93", K_CITY, 3 } /* 大道 */,
	{ "\xe9\xa9\xac\xe8\xb7\xaf", K_CITY, 3 } /* 马路 */, { "\xe5\x85\xac\xe8\xb7\xaf", K_CITY, 3 } /* 公路 */,
	{ "\xe8\xb7\xaf\xe5\x8f\xa3", K_CITY, 3 } /* 路口 */, { "\xe8\xbd\xa6\xe6\xb5\x81", K_CITY, 3 } /* 车流 */,
	{ "\xe4\xba\xa4\xe9\x80\x9a", K_CITY, 2 } /* 交通 */, { "\xe8\xbd\xa6", K_CITY, 1 } /* 车 */,
	/* coast and water */
	{ "ocean", K_SEA, 3 }, { "sea", K_SEA, 3 }, { "beach", K_SEA, 3 }, { "shore", K_SEA, 3 },
	{ "coast", K_SEA, 3 }, { "harbor", K_SEA, 3 }, { "harbour", K_SEA, 3 }, { "lake", K_SEA, 3 },
	{ "river", K_SEA, 2 }, { "wave", K_SEA, 2 }, { "boat", K_SEA, 2 }, { "ship", K_SEA, 2 },
	{ "island", K_SEA, 3 }, { "lighthouse", K_SEA, 3 }, { "pier", K_SEA, 3 }, { "port", K_SEA, 2 },
	{ "bay", K_SEA, 2 }, { "sail", K_SEA, 2 }, { "fisherman", K_SEA, 2 }, { "fishing", K_SEA, 2 },
	{ "coastal", K_SEA, 1 }, { "seaside", K_SEA, 3 }, { "mer", K_SEA, 3 }, { "phare", K_SEA, 3 },
	{ "plage", K_SEA, 3 }, { "mar", K_SEA, 3 }, { "faro", K_SEA, 3 }, { "playa", K_SEA, 3 },
	{ "meer", K_SEA, 3 }, { "leuchtturm", K_SEA, 3 }, { "strand", K_SEA, 3 }, { "mare", K_SEA, 3 },
	{ "spiaggia", K_SEA, 3 }, { "praia", K_SEA, 3 }, { "sailboat", K_SEA, 2 },
	{ "quay", K_SEA, 3 }, { "dock", K_SEA, 2 }, { "wharf", K_SEA, 3 }, { "marina", K_SEA, 3 },
	{ "trawler", K_SEA, 3 }, { "fishermen", K_SEA, 2 }, { "p\xc3\xaa" "cheur", K_SEA, 2 }, { "bateau", K_SEA, 2 },
	{ "quai", K_SEA, 3 }, { "barco", K_SEA, 2 }, { "puerto", K_SEA, 3 }, { "pescador", K_SEA, 2 },
	{ "hafen", K_SEA, 3 }, { "fischer", K_SEA, 2 }, { "schiff", K_SEA, 2 },
	{ "\xe7\xa0\x81\xe5\xa4\xb4", K_SEA, 3 } /* 码头 */, { "\xe5\xb8\x86", K_SEA, 2 } /* 帆 */,
	{ "\xe6\xb5\xb7", K_SEA, 3 } /* 海 */, { "\xe6\xb9\x96", K_SEA, 3 } /* 湖 */, { "\xe6\xb2\xb3", K_SEA, 2 } /* 河 */,
	{ "\xe8\x88\xb9", K_SEA, 3 } /* 船 */, { "\xe7\x81\xaf\xe5\xa1\x94", K_SEA, 3 } /* 灯塔 */,
	{ "\xe6\xb8\xaf", K_SEA, 3 } /* 港 */, { "\xe6\xb2\x99\xe6\xbb\xa9", K_SEA, 3 } /* 沙滩 */,
	{ "\xe6\xb8\x94", K_SEA, 2 } /* 渔 */, { "\xe6\xb5\xaa", K_SEA, 2 } /* 浪 */,
	/* forest */
	{ "forest", K_FOREST, 3 }, { "woods", K_FOREST, 3 }, { "tree", K_FOREST, 2 }, { "jungle", K_FOREST, 3 },
	{ "grove", K_FOREST, 3 }, { "garden", K_FOREST, 3 }, { "park", K_FOREST, 2 }, { "woodland", K_FOREST, 3 },
	{ "for\xc3\xaat", K_FOREST, 3 }, { "bosque", K_FOREST, 3 }, { "selva", K_FOREST, 3 }, { "wald", K_FOREST, 3 },
	{ "bosco", K_FOREST, 3 }, { "foresta", K_FOREST, 3 }, { "floresta", K_FOREST, 3 },
	{ "\xe6\xa3\xae\xe6\x9e\x97", K_FOREST, 3 } /* 森林 */, { "\xe6\x9e\x97", K_FOREST, 2 } /* 林 */,
	{ "\xe6\xa0\x91", K_FOREST, 2 } /* 树 */, { "\xe8\x8a\xb1\xe5\x9b\xad", K_FOREST, 3 } /* 花园 */,
	{ "\xe5\x85\xac\xe5\x9b\xad", K_FOREST, 3 } /* 公园 */,
	/* open country */
	{ "meadow", K_COUNTRY, 3 }, { "field", K_COUNTRY, 3 }, { "farm", K_COUNTRY, 3 }, { "village", K_COUNTRY, 3 },
	{ "prairie", K_COUNTRY, 3 }, { "countryside", K_COUNTRY, 3 }, { "grassland", K_COUNTRY, 3 },
	{ "pasture", K_COUNTRY, 3 }, { "rural", K_COUNTRY, 1 }, { "campagne", K_COUNTRY, 3 },
	{ "campo", K_COUNTRY, 3 }, { "dorf", K_COUNTRY, 3 }, { "wiese", K_COUNTRY, 3 },
	{ "\xe8\x8d\x89\xe5\x8e\x9f", K_COUNTRY, 3 } /* 草原 */, { "\xe7\x94\xb0", K_COUNTRY, 2 } /* 田 */,
	{ "\xe6\x9d\x91", K_COUNTRY, 3 } /* 村 */, { "\xe4\xb9\xa1", K_COUNTRY, 2 } /* 乡 */,
	/* mountains */
	{ "mountain", K_MOUNTAINS, 3 }, { "peak", K_MOUNTAINS, 3 }, { "cliff", K_MOUNTAINS, 2 },
	{ "valley", K_MOUNTAINS, 3 }, { "hill", K_MOUNTAINS, 2 }, { "summit", K_MOUNTAINS, 3 },
	{ "canyon", K_MOUNTAINS, 3 }, { "glacier", K_MOUNTAINS, 3 }, { "alps", K_MOUNTAINS, 3 },
	{ "mountainous", K_MOUNTAINS, 1 }, { "montagne", K_MOUNTAINS, 3 }, { "monta\xc3\xb1" "a", K_MOUNTAINS, 3 },
	{ "berg", K_MOUNTAINS, 3 }, { "gebirge", K_MOUNTAINS, 3 }, { "montagna", K_MOUNTAINS, 3 },
	{ "\xe5\xb1\xb1", K_MOUNTAINS, 3 } /* 山 */, { "\xe5\xb3\xb0", K_MOUNTAINS, 3 } /* 峰 */,
	{ "\xe8\xb0\xb7", K_MOUNTAINS, 2 } /* 谷 */,
	/* desert */
	{ "desert", K_DUNES, 3 }, { "dune", K_DUNES, 3 }, { "sand", K_DUNES, 1 }, { "sandy", K_DUNES, 1 },
	{ "oasis", K_DUNES, 3 }, { "d\xc3\xa9sert", K_DUNES, 3 }, { "desierto", K_DUNES, 3 },
	{ "w\xc3\xbcste", K_DUNES, 3 }, { "deserto", K_DUNES, 3 }, { "\xe6\xb2\x99\xe6\xbc\xa0", K_DUNES, 3 } /* 沙漠 */,
	{ "\xe6\xb2\x99\xe4\xb8\x98", K_DUNES, 3 } /* 沙丘 */,
	/* interiors and space */
	{ "room", K_STAGE, 3 }, { "kitchen", K_STAGE, 3 }, { "office", K_STAGE, 3 }, { "indoor", K_STAGE, 3 },
	{ "indoors", K_STAGE, 3 }, { "inside", K_STAGE, 1 }, { "house", K_STAGE, 1 }, { "home", K_STAGE, 1 },
	{ "lab", K_STAGE, 3 }, { "laboratory", K_STAGE, 3 }, { "studio", K_STAGE, 3 }, { "hall", K_STAGE, 2 },
	{ "classroom", K_STAGE, 3 }, { "library", K_STAGE, 3 }, { "cafe", K_STAGE, 3 }, { "caf\xc3\xa9", K_STAGE, 3 },
	{ "bedroom", K_STAGE, 3 }, { "workshop", K_STAGE, 3 }, { "stage", K_STAGE, 3 }, { "galaxy", K_STAGE, 3 },
	{ "spaceship", K_STAGE, 3 }, { "dream", K_STAGE, 1 }, { "\xe5\xae\xa4", K_STAGE, 3 } /* 室 */,
	{ "\xe5\xb1\x8b", K_STAGE, 2 } /* 屋 */, { "\xe6\x88\xbf\xe9\x97\xb4", K_STAGE, 3 } /* 房间 */,
	{ "\xe5\x8e\xa8\xe6\x88\xbf", K_STAGE, 3 } /* 厨房 */, { "\xe5\xa4\xaa\xe7\xa9\xba", K_STAGE, 3 } /* 太空 */,
	{ "\xe5\xae\x87\xe5\xae\x99", K_STAGE, 3 } /* 宇宙 */, { "\xe6\xa2\xa6", K_STAGE, 1 } /* 梦 */,
};

static const keyword time_words[] = {
	{ "dawn", T_DAWN, 3 }, { "daybreak", T_DAWN, 3 }, { "sunrise", T_DAWN, 3 }, { "morning", T_MORNING, 3 },
	{ "early morning", T_DAWN, 4 },
	{ "first light", T_DAWN, 3 }, { "aube", T_DAWN, 3 }, { "matin", T_MORNING, 3 }, { "amanecer", T_DAWN, 3 },
	{ "ma\xc3\xb1" "ana", T_MORNING, 2 }, { "morgen", T_MORNING, 2 }, { "alba", T_DAWN, 3 }, { "mattina", T_MORNING, 3 },
	{ "vormittag", T_MORNING, 3 }, { "matin\xc3\xa9" "e", T_MORNING, 3 }, { "\xe5\x8d\x88\xe5\x89\x8d", T_MORNING, 3 } /* 午前 */,
	{ "madrugada", T_DAWN, 3 },
	{ "\xe9\xbb\x8e\xe6\x98\x8e", T_DAWN, 3 } /* 黎明 */, { "\xe7\xa0\xb4\xe6\x99\x93", T_DAWN, 3 } /* 破晓 */,
	{ "\xe6\x97\xa5\xe5\x87\xba", T_DAWN, 3 } /* 日出 */, { "\xe6\xb8\x85\xe6\x99\xa8", T_DAWN, 3 } /* 清晨 */,
	{ "\xe6\x97\xa9\xe6\x99\xa8", T_DAWN, 3 } /* 早晨 */, { "\xe6\x8b\x82\xe6\x99\x93", T_DAWN, 3 } /* 拂晓 */,
	{ "\xe6\x97\xa9\xe4\xb8\x8a", T_DAWN, 3 } /* 早上 */, { "\xe6\x9c\x9d\xe9\x98\xb3", T_DAWN, 3 } /* 朝阳 */,
	{ "\xe5\x8d\x87\xe8\xb5\xb7", T_DAWN, 1 } /* 升起 */, { "\xe4\xb8\x8a\xe5\x8d\x88", T_MORNING, 4 } /* 上午 */,
	{ "clear morning", T_MORNING, 4 }, { "sun rises", T_DAWN, 3 }, { "noon", T_NOON, 3 }, { "midday", T_NOON, 3 },
	{ "afternoon", T_AFTERNOON, 3 }, { "daylight", T_DAY, 3 },
	{ "daytime", T_DAY, 3 }, { "sunny", T_DAY, 2 }, { "midi", T_NOON, 3 }, { "mediod\xc3\xad" "a", T_NOON, 3 },
	{ "mittag", T_NOON, 3 }, { "mezzogiorno", T_NOON, 3 },
	{ "\xe6\xad\xa3\xe5\x8d\x88", T_NOON, 3 } /* 正午 */, { "\xe4\xb8\xad\xe5\x8d\x88", T_NOON, 3 } /* 中午 */,
	{ "\xe7\x99\xbd\xe5\xa4\xa9", T_DAY, 3 } /* 白天 */, { "\xe5\x8d\x88\xe5\x90\x8e", T_AFTERNOON, 3 } /* 午后 */,
	{ "\xe4\xb8\x8b\xe5\x8d\x88", T_AFTERNOON, 3 } /* 下午 */, { "\xe9\x98\xb3\xe5\x85\x89", T_DAY, 1 } /* 阳光 */,
	{ "\xe5\x8d\x88\xe5\xbe\x8c", T_AFTERNOON, 3 } /* 午後 */, { "\xe6\x98\xbc", T_NOON, 3 } /* 昼 */,
	{ "dusk", T_DUSK, 3 }, { "sunset", T_DUSK, 3 }, { "evening", T_DUSK, 3 }, { "twilight", T_DUSK, 3 },
	{ "golden hour", T_DUSK, 3 }, { "nightfall", T_DUSK, 3 }, { "cr\xc3\xa9puscule", T_DUSK, 3 },
	{ "soir", T_DUSK, 3 }, { "atardecer", T_DUSK, 3 }, { "abend", T_DUSK, 3 }, { "tramonto", T_DUSK, 3 },
	{ "\xe9\xbb\x84\xe6\x98\x8f", T_DUSK, 3 } /* 黄昏 */, { "\xe5\x82\x8d\xe6\x99\x9a", T_DUSK, 3 } /* 傍晚 */,
	{ "\xe5\xa4\x95\xe9\x98\xb3", T_DUSK, 3 } /* 夕阳 */, { "\xe6\x97\xa5\xe8\x90\xbd", T_DUSK, 3 } /* 日落 */,
	{ "night", T_NIGHT, 3 }, { "midnight", T_NIGHT, 3 }, { "moonlight", T_NIGHT, 3 }, { "moon", T_NIGHT, 2 },
	{ "starry", T_NIGHT, 2 }, { "stars", T_NIGHT, 2 }, { "nighttime", T_NIGHT, 3 }, { "galaxy", T_NIGHT, 2 },
	{ "nuit", T_NIGHT, 3 }, { "noche", T_NIGHT, 3 }, { "nacht", T_NIGHT, 3 }, { "notte", T_NIGHT, 3 },
	{ "noite", T_NIGHT, 3 }, { "\xe5\xa4\x9c", T_NIGHT, 3 } /* 夜 */, { "\xe6\x9c\x88\xe5\x85\x89", T_NIGHT, 3 } /* 月光 */,
	{ "\xe6\x98\x9f\xe7\xa9\xba", T_NIGHT, 3 } /* 星空 */, { "\xe5\xa4\xaa\xe7\xa9\xba", T_NIGHT, 2 } /* 太空 */,
	/* more languages: de, es, fr, ja */
	{ "sonnenaufgang", T_DAWN, 3 }, { "morgengrauen", T_DAWN, 3 }, { "fr\xc3\xbch", T_DAWN, 2 },
	{ "sonnenuntergang", T_DUSK, 3 }, { "untergeht", T_DUSK, 3 }, { "d\xc3\xa4mmerung", T_DUSK, 3 },
	{ "anochecer", T_DUSK, 3 }, { "soir\xc3\xa9" "e", T_DUSK, 3 }, { "aurore", T_DAWN, 3 }, { "tarde", T_AFTERNOON, 2 },
	{ "nachmittag", T_AFTERNOON, 3 }, { "apr\xc3\xa8s-midi", T_AFTERNOON, 3 }, { "pomeriggio", T_AFTERNOON, 3 },
	{ "\xe5\xa4\xaa\xe9\x98\xb3\xe5\x8d\x87\xe8\xb5\xb7", T_DAWN, 3 } /* 太阳升起 */,
	{ "\xe6\x9a\xae", T_DUSK, 3 } /* 暮 */, { "\xe5\xa4\x9c\xe6\x98\x8e\xe3\x81\x91", T_DAWN, 3 } /* 夜明け */,
	{ "\xe6\x9c\x9d\xe6\x97\xa5", T_DAWN, 3 } /* 朝日 */, { "\xe5\xa4\x95\xe6\x96\xb9", T_DUSK, 3 } /* 夕方 */,
	{ "\xe5\xa4\x95\xe6\x9a\xae", T_DUSK, 3 } /* 夕暮 */,
};

static const keyword weather_words[] = {
	{ "fog", W_MIST, 3 }, { "foggy", W_MIST, 3 }, { "mist", W_MIST, 3 }, { "misty", W_MIST, 3 },
	{ "haze", W_MIST, 2 }, { "brouillard", W_MIST, 3 }, { "niebla", W_MIST, 3 }, { "nebel", W_MIST, 3 },
	{ "nebbia", W_MIST, 3 }, { "\xe9\x9b\xbe", W_MIST, 3 } /* 雾 */,
	{ "rain", W_RAIN, 3 }, { "rainy", W_RAIN, 3 }, { "raining", W_RAIN, 3 }, { "drizzle", W_RAIN, 3 },
	{ "pluie", W_RAIN, 3 }, { "lluvia", W_RAIN, 3 }, { "regen", W_RAIN, 3 }, { "pioggia", W_RAIN, 3 },
	{ "chuva", W_RAIN, 3 }, { "\xe9\x9b\xa8", W_RAIN, 3 } /* 雨 */,
	{ "storm", W_STORM, 4 }, { "stormy", W_STORM, 4 }, { "thunder", W_STORM, 4 }, { "lightning", W_STORM, 4 },
	{ "tempest", W_STORM, 4 }, { "gale", W_STORM, 3 }, { "hurricane", W_STORM, 4 }, { "temp\xc3\xaa" "te", W_STORM, 4 },
	{ "orage", W_STORM, 4 }, { "tormenta", W_STORM, 4 }, { "sturm", W_STORM, 4 }, { "gewitter", W_STORM, 4 },
	{ "tempesta", W_STORM, 4 }, { "\xe6\x9a\xb4\xe9\xa3\x8e", W_STORM, 4 } /* 暴风 */,
	{ "\xe9\xa3\x8e\xe6\x9a\xb4", W_STORM, 4 } /* 风暴 */, { "\xe9\x9b\xb7", W_STORM, 4 } /* 雷 */,
	{ "snow", W_SNOW, 3 }, { "snowy", W_SNOW, 3 }, { "snowfall", W_SNOW, 3 }, { "blizzard", W_SNOW, 4 },
	{ "winter", W_SNOW, 1 }, { "frozen", W_SNOW, 1 }, { "neige", W_SNOW, 3 }, { "nieve", W_SNOW, 3 },
	{ "schnee", W_SNOW, 3 }, { "snowman", W_SNOW, 3 }, { "snowmen", W_SNOW, 3 }, { "snowflake", W_SNOW, 3 }, { "neve", W_SNOW, 3 }, { "\xe9\x9b\xaa", W_SNOW, 3 } /* 雪 */,
	{ "\xe5\x86\xac", W_SNOW, 1 } /* 冬 */,
	/* a storm on its way: these outweigh the storm word they come with ("storm clouds", "a storm rolls in") */
	{ "dark clouds", W_GATHER, 5 }, { "storm clouds", W_GATHER, 5 }, { "gathering clouds", W_GATHER, 5 },
	{ "clouds gather", W_GATHER, 5 }, { "clouds gathering", W_GATHER, 5 }, { "roll in", W_GATHER, 2 },
	{ "rolls in", W_GATHER, 2 }, { "rolling in", W_GATHER, 2 }, { "approaching", W_GATHER, 2 },
	{ "brewing", W_GATHER, 2 }, { "closing in", W_GATHER, 2 }, { "nuages sombres", W_GATHER, 5 },
	{ "dunkle wolken", W_GATHER, 5 }, { "nubes oscuras", W_GATHER, 5 }, { "nuvole scure", W_GATHER, 5 },
	{ "\xe4\xb9\x8c\xe4\xba\x91", W_GATHER, 5 } /* 乌云 */, { "\xe6\x9a\x97\xe9\x9b\xb2", W_GATHER, 5 } /* 暗雲 */,
	{ "neon", W_NEON, 3 }, { "cyberpunk", W_NEON, 3 }, { "cyber", W_NEON, 2 }, { "futuristic", W_NEON, 2 },
	{ "\xe9\x9c\x93\xe8\x99\xb9", W_NEON, 3 } /* 霓虹 */, { "\xe8\xb5\x9b\xe5\x8d\x9a", W_NEON, 3 } /* 赛博 */,
	{ "autumn", W_AUTUMN, 2 }, { "fall leaves", W_AUTUMN, 2 }, { "automne", W_AUTUMN, 2 }, { "oto\xc3\xb1o", W_AUTUMN, 2 },
	{ "herbst", W_AUTUMN, 2 }, { "\xe7\xa7\x8b", W_AUTUMN, 2 } /* 秋 */,
};

/* Props a shot names, by meaning (value: LV_PROP_*).  A prop is drawn beside the characters (ground
 * props, at most one a side), in the sky (birds) or as the whole backdrop (a window in a wall). */
static const keyword prop_words[] = {
	{ "snowman", LV_PROP_SNOWMAN, 3 }, { "snowmen", LV_PROP_SNOWMAN, 3 }, { "bonhomme de neige", LV_PROP_SNOWMAN, 3 },
	{ "schneemann", LV_PROP_SNOWMAN, 3 }, { "mu\xc3\xb1" "eco de nieve", LV_PROP_SNOWMAN, 3 },
	{ "pupazzo di neve", LV_PROP_SNOWMAN, 3 }, { "\xe9\x9b\xaa\xe4\xba\xba", LV_PROP_SNOWMAN, 3 } /* 雪人 */,
	{ "\xe9\x9b\xaa\xe3\x81\xa0\xe3\x82\x8b\xe3\x81\xbe", LV_PROP_SNOWMAN, 3 } /* 雪だるま */,
	/* (a window, not the lit windows of a street: "window" singular only, 窗台 and the like, not 窗户) */
	{ "window", LV_PROP_WINDOW, 3 }, { "windowsill", LV_PROP_WINDOW, 3 }, { "window sill", LV_PROP_WINDOW, 3 },
	{ "windowpane", LV_PROP_WINDOW, 3 }, { "fen\xc3\xaatre", LV_PROP_WINDOW, 3 }, { "rebord", LV_PROP_WINDOW, 2 },
	{ "fenster", LV_PROP_WINDOW, 3 }, { "fensterbank", LV_PROP_WINDOW, 3 }, { "ventana", LV_PROP_WINDOW, 3 },
	{ "alf\xc3\xa9izar", LV_PROP_WINDOW, 3 }, { "finestra", LV_PROP_WINDOW, 3 }, { "janela", LV_PROP_WINDOW, 3 },
	{ "\xe7\xaa\x97\xe5\x8f\xb0", LV_PROP_WINDOW, 3 } /* 窗台 */, { "\xe7\xaa\x97\xe8\xbe\xb9", LV_PROP_WINDOW, 3 } /* 窗边 */,
	{ "\xe7\xaa\x97\xe5\x89\x8d", LV_PROP_WINDOW, 3 } /* 窗前 */, { "\xe7\xaa\x97\xe5\x8f\xa3", LV_PROP_WINDOW, 3 } /* 窗口 */,
	{ "\xe7\xaa\x97\xe5\xa4\x96", LV_PROP_WINDOW, 3 } /* 窗外 */, { "\xe7\xaa\x97\xe4\xb8\x8a", LV_PROP_WINDOW, 3 } /* 窗上 */,
	{ "\xe7\xaa\x93", LV_PROP_WINDOW, 3 } /* 窓 (ja) */,
	{ "umbrella", LV_PROP_UMBRELLA, 3 }, { "parapluie", LV_PROP_UMBRELLA, 3 }, { "regenschirm", LV_PROP_UMBRELLA, 3 },
	{ "schirm", LV_PROP_UMBRELLA, 2 }, { "paraguas", LV_PROP_UMBRELLA, 3 }, { "ombrello", LV_PROP_UMBRELLA, 3 },
	{ "guarda-chuva", LV_PROP_UMBRELLA, 3 }, { "\xe4\xbc\x9e", LV_PROP_UMBRELLA, 3 } /* 伞 */,
	{ "\xe5\x82\x98", LV_PROP_UMBRELLA, 3 } /* 傘 */,
	{ "bird", LV_PROP_BIRDS, 3 }, { "seabird", LV_PROP_BIRDS, 3 }, { "gull", LV_PROP_BIRDS, 3 },
	{ "seagull", LV_PROP_BIRDS, 3 }, { "flock", LV_PROP_BIRDS, 2 }, { "swallow", LV_PROP_BIRDS, 2 },
	{ "oiseau", LV_PROP_BIRDS, 3 }, { "oiseaux", LV_PROP_BIRDS, 3 }, { "mouette", LV_PROP_BIRDS, 3 },
	{ "go\xc3\xa9land", LV_PROP_BIRDS, 3 }, { "vogel", LV_PROP_BIRDS, 3 }, { "v\xc3\xb6gel", LV_PROP_BIRDS, 3 },
	{ "m\xc3\xb6we", LV_PROP_BIRDS, 3 }, { "p\xc3\xa1jaro", LV_PROP_BIRDS, 3 }, { "gaviota", LV_PROP_BIRDS, 3 },
	{ "uccello", LV_PROP_BIRDS, 3 }, { "uccelli", LV_PROP_BIRDS, 3 }, { "gabbiano", LV_PROP_BIRDS, 3 },
	{ "\xe9\xb8\x9f", LV_PROP_BIRDS, 3 } /* 鸟 */, { "\xe9\xb3\xa5", LV_PROP_BIRDS, 3 } /* 鳥 */,
	{ "\xe9\xb8\xa5", LV_PROP_BIRDS, 3 } /* 鸥 */, { "\xe7\x87\x95\xe5\xad\x90", LV_PROP_BIRDS, 3 } /* 燕子 */,
	{ "bench", LV_PROP_BENCH, 3 }, { "banc", LV_PROP_BENCH, 3 }, { "bank", LV_PROP_BENCH, 1 },
	{ "parkbank", LV_PROP_BENCH, 3 }, { "sitzbank", LV_PROP_BENCH, 3 }, { "banco", LV_PROP_BENCH, 3 },
	{ "panchina", LV_PROP_BENCH, 3 }, { "\xe9\x95\xbf\xe6\xa4\x85", LV_PROP_BENCH, 3 } /* 长椅 */,
	{ "\xe9\x95\xb7\xe6\xa4\x85", LV_PROP_BENCH, 3 } /* 長椅 */, { "\xe3\x83\x99\xe3\x83\xb3\xe3\x83\x81", LV_PROP_BENCH, 3 } /* ベンチ */,
	{ "street lamp", LV_PROP_LAMP, 3 }, { "streetlamp", LV_PROP_LAMP, 3 }, { "lamppost", LV_PROP_LAMP, 3 },
	{ "lamp post", LV_PROP_LAMP, 3 }, { "streetlight", LV_PROP_LAMP, 3 }, { "street light", LV_PROP_LAMP, 3 },
	{ "lantern", LV_PROP_LAMP, 2 }, { "lampadaire", LV_PROP_LAMP, 3 }, { "laterne", LV_PROP_LAMP, 3 },
	{ "stra\xc3\x9f" "enlaterne", LV_PROP_LAMP, 3 }, { "farola", LV_PROP_LAMP, 3 }, { "lampione", LV_PROP_LAMP, 3 },
	{ "\xe8\xb7\xaf\xe7\x81\xaf", LV_PROP_LAMP, 3 } /* 路灯 */, { "\xe8\xa1\x97\xe7\x81\xaf", LV_PROP_LAMP, 3 } /* 街灯 */,
	{ "\xe7\x81\xaf\xe7\xac\xbc", LV_PROP_LAMP, 2 } /* 灯笼 */,
	{ "flower", LV_PROP_FLOWERS, 3 }, { "blossom", LV_PROP_FLOWERS, 2 }, { "tulip", LV_PROP_FLOWERS, 3 },
{ "fleur", LV_PROP_FLOWERS, 3 }, { "fleurs", LV_PROP_FLOWERS, 3 },
	{ "blume", LV_PROP_FLOWERS, 3 }, { "blumen", LV_PROP_FLOWERS, 3 }, { "flor", LV_PROP_FLOWERS, 3 },
	{ "flores", LV_PROP_FLOWERS, 3 }, { "fiore", LV_PROP_FLOWERS, 3 }, { "fiori", LV_PROP_FLOWERS, 3 },
	{ "\xe8\x8a\xb1\xe6\x9c\xb5", LV_PROP_FLOWERS, 3 } /* 花朵 */, { "\xe9\xb2\x9c\xe8\x8a\xb1", LV_PROP_FLOWERS, 3 } /* 鲜花 */,
	{ "\xe8\x8a\xb1\xe4\xb8\x9b", LV_PROP_FLOWERS, 3 } /* 花丛 */, { "\xe8\x8a\xb1\xe5\x9d\x9b", LV_PROP_FLOWERS, 3 } /* 花坛 */,
};

static const char *const prop_names[LV_PROP_COUNT] = { "snowman", "window", "umbrella", "birds", "bench", "lamp",
	                                               "flowers" };

const char *lv_scene_prop_name(int prop)
{
	return prop >= 0 && prop < LV_PROP_COUNT ? prop_names[prop] : NULL;
}

typedef struct layer {
	float depth;
	float *hmap;     /* world y of the top edge per world x (sample 0 is x = -w/2) */
	float base, amp; /* mean top and relief, for the colour gradient */
	float low;       /* world y below which the layer covers every column (its lowest top) */
	lv_rgb top, bottom;
	int wave;        /* animated water: base + waves moving with t */
	float wk, wspeed, wphase;
	int win0, win1;  /* its lit windows in the window list */
} layer;

typedef struct cloud {
	float x, y, s, vx, flip;
	lv_rgb col, shade;
	int alpha;
} cloud;

typedef struct particle {
	float x, y, r, depth, vx, vy, phase, freq;
	lv_rgb col;
	int alpha;
} particle;

typedef struct window {
	float x, y, w, h;
	lv_rgb col;
	int alpha;
} window;

struct lv_scene {
	int w, h;
	float U;       /* sqrt(w * h): the unit of horizontal sizes */
	float cx, cy;  /* centre of the camera's zoom */
	int kind, pal, weather, lighthouse;
	unsigned props;              /* 1u << LV_PROP_*: what the shot names */
	int prop_side[LV_PROP_COUNT]; /* ground props: -1 left, 1 right, 0 not drawn */
	float bird_phase;
	float lamp_x, lamp_y, lamp_depth; /* the lighthouse's lamp in world coordinates */
	int lamp_layer;
	/* a boat out on the water, a pier with boats moored at it, lightning in a storm */
	int boat, harbour, boat_layer, pier_layer;
	float boat_x, boat_len, boat_vx, pier_x0, pier_x1;
	lv_rgb hull;
	float bolt[2][9][2];
	float bolt_phase;
	lv_rgb sky_top, sky_mid, horizon, sun, far, near;
	float horizon_y;
	layer layers[MAX_LAYERS];
	int n_layers;
	int nsamp;
	/* the light */
	int has_sun, moon, n_beams;
	float sun_x, sun_y, sun_r, sun_alpha;
	float beam_ang[MAX_BEAMS], beam_half[MAX_BEAMS], beam_phase[MAX_BEAMS];
	int beam_alpha;
	cloud clouds[MAX_CLOUDS];
	int n_clouds;
	particle stars[MAX_STARS];
	int n_stars;
	particle back[MAX_PARTS / 4];
	int n_back;
	particle parts[MAX_PARTS];
	int n_parts, part_mode;
	window wins[MAX_WINDOWS];
	int n_wins;
	int haze_alpha;
	/* per-frame scratch */
	int32_t *top;
	lv_px *rows;
	/* traffic on the near road (cities) */
	particle cars[24];
	int n_cars;
	/* the sky, sun and stars drawn once (lazily, in the first canvas's colour space) */
	lv_canvas sky;
	int sky_ready;
	int32_t *sky_x; /* w source columns of a view, w ends of their runs, per sky row its [lo, hi) not of one colour */
};

/* ---- keywords ---------------------------------------------------------------- */

/* A letter for whole-word matching: ASCII letters and Latin letters with accents (UTF-8 lead bytes
 * 0xC3..0xC5 and their continuation bytes). */
static int letter_at(const char *text, const char *p)
{
	unsigned char c = (unsigned char)*p;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC3 && c <= 0xC5))
		return 1;
	return c >= 0x80 && c < 0xC0 && p > text && (unsigned char)p[-1] >= 0xC3 && (unsigned char)p[-1] <= 0xC5;
}

/* A setting word used to describe something else: "forest-green coat", "sea blue", "森林绿". */
static int is_modifier(const char *after)
{
	static const char *const colours[] = { " green", " blue", " grey", " gray", " brown", " red", " white",
		                               " black", " gold", " colored", " coloured", NULL };
	static const char *const zh[] = { "\xe7\xbb\xbf", "\xe8\x93\x9d", "\xe8\x89\xb2", NULL }; /* 绿 蓝 色 */
	const char *const *c;
	if (after[0] == '-' && ((after[1] >= 'a' && after[1] <= 'z')))
		return 1;
	for (c = colours; *c; c++)
		if (!strncmp(after, *c, strlen(*c)) && !letter_at(after, after + strlen(*c)))
			return 1;
	for (c = zh; *c; c++)
		if (!strncmp(after, *c, strlen(*c)))
			return 1;
	return 0;
}

/* Occurrences (at most 3) of kw in the lower-cased text, whole words for ASCII keywords, modifiers not
 * counted; *first receives the first position. */
static int count_word(const char *text, const char *kw, long *first)
{
	size_t n = strlen(kw);
	const char *p = text;
	int ascii = (unsigned char)kw[0] < 0x80, count = 0;
	*first = -1;
	while (count < 3 && (p = strstr(p, kw)) != NULL) {
		const char *after = p + n;
		int ok = 1;
		if (ascii) {
			if (p > text && letter_at(text, p - 1))
				ok = 0;
			if (*after == 's' && !letter_at(text, after + 1))
				after++;
			else if (letter_at(text, after))
				ok = 0;
		}
		if (ok && !is_modifier(after)) {
			if (*first < 0)
				*first = (long)(p - text);
			count++;
		}
		p += n;
	}
	return count;
}

/* The value with the highest total weight (ties: the one named first), or -1 when none is named. */
static int vote(const char *lower, const keyword *list, size_t n, int n_values)
{
	int score[16] = { 0 }, best = -1, v;
	long first[16], at;
	size_t i;
	for (v = 0; v < 16; v++)
		first[v] = -1;
	for (i = 0; i < n; i++) {
		int c = count_word(lower, list[i].word, &at);
		v = list[i].value;
		if (!c || v < 0 || v >= n_values || v >= 16)
			continue;
		score[v] += c * list[i].weight;
		if (first[v] < 0 || at < first[v])
			first[v] = at;
	}
	for (v = 0; v < n_values && v < 16; v++)
		if (score[v] && (best < 0 || score[v] > score[best] || (score[v] == score[best] && first[v] < first[best])))
			best = v;
	return best;
}

static void place_props(lv_scene *s, uint32_t seed);

typedef struct choice {
	int kind, time, weather, lighthouse, boat, harbour;
	int light; /* the time of day as named: T_MORNING, T_NOON, T_AFTERNOON within T_DAY */
	unsigned props;
} choice;

/* The time of day of a text: the first one named (weight 2 and more; at one place, the longest word),
 * as a shot's own light comes before what it quotes ("As dusk falls, ...  Scene: ... at dawn and ... in
 * the evening"); -1 when none is named. */
static int first_time(const char *lower)
{
	long best = -1, at;
	size_t i, best_len = 0;
	int t = -1;
	for (i = 0; i < sizeof(time_words) / sizeof(time_words[0]); i++) {
		size_t n = strlen(time_words[i].word);
		if (time_words[i].weight < 2 || !count_word(lower, time_words[i].word, &at))
			continue;
		if (best < 0 || at < best || (at == best && n > best_len)) {
			best = at;
			best_len = n;
			t = time_words[i].value;
		}
	}
	return t;
}

/* Props of a coast, named by any of these words. */
static const char *const boat_words[] = { "boat", "sailboat", "ship", "sail", "sailing", "fishing", "fisherman",
	                                  "fishermen", "trawler", "rowboat", "canoe", "kayak", "bateau", "p\xc3\xaa" "cheur",
	                                  "barco", "pescador", "schiff", "fischer", "\xe8\x88\xb9" /* 船 */,
	                                  "\xe6\xb8\x94" /* 渔 */, "\xe5\xb8\x86" /* 帆 */, NULL };
static const char *const harbour_words[] = { "harbor", "harbour", "port", "pier", "quay", "dock", "wharf", "marina",
	                                     "quai", "puerto", "muelle", "hafen", "\xe6\xb8\xaf" /* 港 */,
	                                     "\xe7\xa0\x81\xe5\xa4\xb4" /* 码头 */, NULL };

/* Whether the ASCII word occurs in the singular (not followed by "s" or another letter). */
static int singular(const char *lower, const char *w)
{
	size_t n = strlen(w);
	const char *p = lower;
	for (; (p = strstr(p, w)) != NULL; p += n)
		if ((p == lower || !letter_at(lower, p - 1)) && !letter_at(lower, p + n))
			return 1;
	return 0;
}

static int any_of(const char *lower, const char *const *words)
{
	long at;
	for (; *words; words++)
		if (count_word(lower, *words, &at))
			return 1;
	return 0;
}

static void choose(const char *text, choice *c)
{
	char *lower = lv_strdup(text ? text : "");
	long at;
	size_t i;
	c->kind = K_OPEN;
	c->time = c->light = T_NONE;
	c->weather = W_CLEAR;
	c->lighthouse = c->boat = c->harbour = 0;
	c->props = 0;
	if (!lower)
		return;
	for (i = 0; lower[i]; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	c->kind = vote(lower, kind_words, sizeof(kind_words) / sizeof(kind_words[0]), K_COUNT);
	if (c->kind < 0)
		c->kind = K_OPEN;
	c->light = first_time(lower);
	c->time = c->light >= T_MORNING ? T_DAY : c->light;
	c->weather = vote(lower, weather_words, sizeof(weather_words) / sizeof(weather_words[0]), W_GATHER + 1);
	if (c->weather < 0)
		c->weather = W_CLEAR;
	c->lighthouse = c->kind == K_SEA &&
	                (count_word(lower, "lighthouse", &at) || count_word(lower, "\xe7\x81\xaf\xe5\xa1\x94", &at) ||
	                 count_word(lower, "phare", &at) || count_word(lower, "faro", &at) ||
	                 count_word(lower, "leuchtturm", &at));
	c->harbour = c->kind == K_SEA && any_of(lower, harbour_words);
	c->boat = c->kind == K_SEA && (c->harbour || any_of(lower, boat_words));
	{
		/* words that look like a prop's and are not: a bird's-eye view, 鸟瞰 */
		static const char *const not_props[] = { "bird's-eye", "birds-eye", "bird's eye", "birdseye",
			                                 "\xe9\xb8\x9f\xe7\x9e\xb0" /* 鸟瞰 */, NULL };
		const char *const *np;
		char *p;
		for (np = not_props; *np; np++)
			while ((p = strstr(lower, *np)) != NULL)
				memset(p, ' ', strlen(*np));
	}
	for (i = 0; i < sizeof(prop_words) / sizeof(prop_words[0]); i++)
		if (prop_words[i].weight >= 2 && count_word(lower, prop_words[i].word, &at) &&
		    (strcmp(prop_words[i].word, "window") || singular(lower, "window")))
			c->props |= 1u << prop_words[i].value;
	if (c->kind == K_STAGE && !(c->props & (1u << LV_PROP_WINDOW)))
		c->props &= ~(1u << LV_PROP_BIRDS); /* indoors: no birds in the sky */
	free(lower);
}

/* The colours of a palette for a choice: daylight at a named part of the day has its own, and so
 * does a storm still gathering. */
static int colours_of(const choice *c, int pal)
{
	if (pal == P_DAY)
		return c->light == T_MORNING ? P_MORNING : c->light == T_NOON ? P_NOON : c->light == T_AFTERNOON ? P_AFTERNOON
		                                                                                             : P_DAY;
	if (pal == P_STORM && c->weather == W_GATHER)
		return P_GATHER;
	return pal;
}

/* The palette for a choice: the time of day first, then the weather over it. */
static int palette_of(const choice *c)
{
	int t = c->time;
	if (t == T_NONE)
		t = c->kind == K_STAGE ? T_DUSK : T_DAY; /* interiors: lamplight */
	switch (c->weather) {
	case W_SNOW:
		return t == T_NIGHT ? P_NIGHT : P_SNOW;
	case W_MIST:
		return t == T_DAY ? P_MISTY : t == T_DAWN ? P_DAWN : t == T_DUSK ? P_DUSK : P_NIGHT;
	case W_RAIN:
	case W_STORM:
	case W_GATHER:
		return t == T_NIGHT ? P_NIGHT : P_STORM;
	case W_NEON:
		return t == T_DAY || t == T_DAWN ? (t == T_DAY ? P_DAY : P_DAWN) : P_NEON;
	case W_AUTUMN:
		return t == T_DAY ? P_AUTUMN : t == T_DAWN ? P_DAWN : t == T_DUSK ? P_DUSK : P_NIGHT;
	default:
		return t == T_DAWN ? P_DAWN : t == T_DUSK ? P_DUSK : t == T_NIGHT ? P_NIGHT : P_DAY;
	}
}

void lv_scene_choose(const char *text, lv_scene_choice *out)
{
	static const char *const kinds[K_COUNT] = { "mountains", "forest", "city", "coast", "desert",
		                                    "interior", "country", "open" };
	static const char *const times[] = { "dawn", "day", "dusk", "night" };
	static const char *const weathers[] = { "clear", "mist", "rain", "storm", "snow", "clear", "clear", "gathering" };
	static const char *const lights[] = { "dawn", "day", "dusk", "night", "morning", "midday", "afternoon" };
	choice c;
	choose(text, &c);
	out->setting = kinds[c.kind];
	out->time = times[c.time == T_NONE ? (c.kind == K_STAGE ? T_DUSK : T_DAY) : c.time];
	out->weather = weathers[c.weather];
	out->light = c.light == T_NONE ? out->time : lights[c.light];
	out->lighthouse = c.lighthouse;
	out->boat = c.boat;
	out->harbour = c.harbour;
	out->props = c.props;
}

/* ---- construction ------------------------------------------------------------- */

static lv_rgb pal_color(int pal, int i)
{
	return lv_rgb_make(palettes[pal][i][0], palettes[pal][i][1], palettes[pal][i][2]);
}

static float smoothstep(float a, float b, float x)
{
	float t = (x - a) / (b - a);
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return t * t * (3 - 2 * t);
}

/* Relief in [-1, 1]: a few sines at incommensurate frequencies; ridged gives sharp peaks. */
static void relief(float *out, int n, float x0, float U, lv_rng *r, float freq, int ridged)
{
	float f[4], ph[4], a[4], sum = 0;
	int o, i;
	for (o = 0; o < 4; o++) {
		f[o] = freq * powf(2.07f, (float)o) * lv_rng_range(r, 0.85f, 1.2f) * 2.0f * PI_F / U;
		ph[o] = lv_rng_range(r, 0, 2 * PI_F);
		a[o] = powf(0.48f, (float)o);
		sum += a[o];
	}
	for (i = 0; i < n; i++) {
		float x = x0 + (float)i, v = 0;
		for (o = 0; o < 4; o++) {
			float s = sinf(x * f[o] + ph[o]);
			v += a[o] * (ridged ? 1.0f - 2.0f * fabsf(s) : s);
		}
		out[i] = v / sum;
	}
}

/* Pines (three stacked tiers) and round bushes standing on the relief. */
static void add_trees(float *hm, int n, float x0, lv_rng *r, float h_min, float h_max, float gap_min, float gap_max,
                      int bush_share)
{
	float x = x0 + lv_rng_range(r, 0, gap_max);
	while (x < x0 + (float)n) {
		float th = lv_rng_range(r, h_min, h_max);
		int bush = (int)(lv_rng_next(r) % 100) < bush_share;
		float hw = bush ? th * 0.5f : th * 0.3f;
		int i, k, i0 = (int)floorf(x - hw - x0), i1 = (int)ceilf(x + hw - x0);
		float ground = hm[(int)fminf(fmaxf(x - x0, 0), (float)(n - 1))];
		if (bush)
			th *= 0.5f;
		for (i = i0 < 0 ? 0 : i0; i <= i1 && i < n; i++) {
			float dx = fabsf(x0 + (float)i - x), y = 1e30f;
			if (bush) {
				if (dx < hw)
					y = ground + th * 0.15f - (th * 1.15f) * sqrtf(1.0f - (dx / hw) * (dx / hw));
			} else {
				for (k = 0; k < 3; k++) {
					/* tier k: apex lower and wider the further down the tree */
					float apex = ground - th * (1.0f - 0.26f * (float)k);
					float half = hw * (0.55f + 0.225f * (float)k), slope = th * 0.42f / half;
					if (dx < half)
						y = fminf(y, apex + dx * slope);
				}
			}
			if (y < hm[i])
				hm[i] = y;
		}
		x += lv_rng_range(r, gap_min, gap_max);
	}
}

static void add_buildings(lv_scene *s, layer *L, lv_rng *r, float wmin, float wmax, float hmin, float hmax,
                          int lit, lv_rgb wcol)
{
	int n = s->nsamp, i;
	float x0 = -(float)s->w * 0.5f, x = x0;
	L->win0 = s->n_wins;
	while (x < x0 + (float)n) {
		float bw = lv_rng_range(r, wmin, wmax) * s->U, bh = lv_rng_range(r, hmin, hmax) * (float)s->h;
		float top = L->base - bh, gap = lv_rng_range(r, 0, 0.006f) * s->U;
		int tier = lv_rng_next(r) % 3 == 0, antenna = lv_rng_next(r) % 5 == 0;
		int a = (int)(x - x0), b = (int)(x + bw - x0);
		for (i = a < 0 ? 0 : a; i < b && i < n; i++) {
			float y = top;
			float rel = ((float)i + x0 - x) / bw;
			if (tier && (rel < 0.2f || rel > 0.8f))
				y = top + bh * 0.12f;
			if (antenna && fabsf(rel - 0.5f) * bw < 1.2f)
				y = top - bh * 0.18f;
			L->hmap[i] = y;
		}
		for (i = b < 0 ? 0 : b; i < (int)(x + bw + gap - x0) && i < n; i++)
			L->hmap[i] = L->base - bh * 0.25f;
		if (lit) {
			float ww = 0.0045f * s->U, wh = 0.011f * (float)s->h, sx = 0.011f * s->U, sy = 0.022f * (float)s->h;
			float wx, wy;
			for (wy = top + (tier ? bh * 0.12f : 0) + sy * 0.7f; wy + wh < L->base - sy * 0.3f; wy += sy)
				for (wx = x + sx * 0.6f; wx + ww < x + bw - sx * 0.4f; wx += sx) {
					window *w;
					if (lv_rng_next(r) % 100 > 32 || s->n_wins >= MAX_WINDOWS)
						continue;
					w = &s->wins[s->n_wins++];
					w->x = wx;
					w->y = wy;
					w->w = ww;
					w->h = wh;
					w->col = lv_rgb_shift(wcol, lv_rng_range(r, -12, 12), lv_rng_range(r, 0.7f, 1.1f));
					w->alpha = s->pal == P_DAY || s->pal == P_DAWN || s->pal == P_AUTUMN || s->pal == P_SNOW
					                   ? (int)lv_rng_range(r, 40, 100)
					                   : (int)lv_rng_range(r, 120, 230);
				}
		}
		x += bw + gap;
	}
	L->win1 = s->n_wins;
}

static int new_layer(lv_scene *s, float depth, float base, float amp)
{
	layer *L = &s->layers[s->n_layers];
	L->hmap = lv_malloc(sizeof(float) * (size_t)s->nsamp);
	if (!L->hmap)
		return LV_ENOMEM;
	L->depth = depth;
	L->base = base * (float)s->h;
	L->amp = amp * (float)s->h;
	s->n_layers++;
	return LV_OK;
}

/* A relief layer: top = base - amp * relief. */
static int relief_layer(lv_scene *s, lv_rng *r, float depth, float base, float amp, float freq, int ridged)
{
	layer *L;
	int i, err = new_layer(s, depth, base, amp);
	if (err)
		return err;
	L = &s->layers[s->n_layers - 1];
	relief(L->hmap, s->nsamp, -(float)s->w * 0.5f, s->U, r, freq, ridged);
	for (i = 0; i < s->nsamp; i++)
		L->hmap[i] = L->base - L->amp * L->hmap[i];
	return LV_OK;
}

static void color_layers(lv_scene *s)
{
	int i;
	for (i = 0; i < s->n_layers; i++) {
		layer *L = &s->layers[i];
		float d = L->depth;
		lv_rgb c = lv_rgb_mix(s->far, s->near, powf(d, 0.8f));
		c = lv_rgb_mix(c, s->horizon, 0.45f * powf(1.0f - d, 1.5f));
		if (s->kind == K_SEA && (L->wave || i == 1)) {
			lv_rgb sea = lv_rgb_mix(lv_rgb_mix(s->sky_top, s->horizon, 0.45f), s->near, 0.25f);
			c = lv_rgb_mix(sea, s->near, d * 0.7f);
		}
		if (s->kind == K_DUNES)
			c = lv_rgb_mix(c, lv_rgb_mix(s->sun, s->horizon, 0.5f), 0.35f * (1.0f - d * 0.6f));
		L->top = c;
		L->bottom = lv_rgb_mix(c, lv_rgb_scale(s->near, 0.7f), 0.35f + 0.3f * d);
	}
}

static void make_particles(lv_scene *s, lv_rng *r)
{
	int i, n;
	float k = s->U / 720.0f;
	switch (s->pal) {
	case P_SNOW:
		s->part_mode = PART_SNOW;
		n = 140;
		break;
	case P_NIGHT:
		s->part_mode = PART_FIREFLIES;
		n = 45;
		break;
	case P_NEON:
		s->part_mode = PART_SPARKS;
		n = 50;
		break;
	default:
		s->part_mode = PART_MOTES;
		n = s->kind == K_COUNTRY || s->kind == K_OPEN ? 140 : 48;
	}
	if (s->pal == P_NIGHT && (s->kind == K_CITY || s->kind == K_SEA)) {
		s->part_mode = PART_MOTES; /* no fireflies over streets and water */
		n = 30;
	}
	if (s->weather == W_SNOW) {
		s->part_mode = PART_SNOW;
		n = 140;
	} else if (s->weather == W_RAIN || s->weather == W_STORM) {
		s->part_mode = PART_RAIN;
		n = s->weather == W_STORM ? 150 : 110;
	}
	if (s->kind == K_STAGE) {
		s->part_mode = PART_BOKEH;
		n = 26;
	}
	for (i = 0; i < n && i < MAX_PARTS; i++) {
		particle *p = &s->parts[i];
		p->x = lv_rng_range(r, 0, (float)s->w);
		p->y = lv_rng_range(r, 0, (float)s->h);
		p->depth = lv_rng_range(r, 0.6f, 1.4f);
		p->phase = lv_rng_range(r, 0, 2 * PI_F);
		p->freq = lv_rng_range(r, 0.4f, 1.6f);
		switch (s->part_mode) {
		case PART_SNOW:
			p->r = lv_rng_range(r, 1.2f, 3.6f) * k * p->depth;
			p->vy = lv_rng_range(r, 0.05f, 0.12f) * (float)s->h * p->depth;
			p->vx = lv_rng_range(r, -0.01f, 0.02f) * s->U;
			p->col = lv_rgb_make(250, 252, 255);
			p->alpha = (int)lv_rng_range(r, 150, 230);
			break;
		case PART_FIREFLIES:
			p->r = lv_rng_range(r, 1.5f, 3.2f) * k;
			p->vy = lv_rng_range(r, -0.015f, 0.01f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.015f, 0.015f) * s->U;
			p->y = lv_rng_range(r, 0.45f, 1.0f) * (float)s->h;
			p->col = lv_rgb_make(235, 250, 150);
			p->alpha = (int)lv_rng_range(r, 150, 250);
			break;
		case PART_SPARKS:
			p->r = lv_rng_range(r, 1.2f, 3.0f) * k;
			p->vy = lv_rng_range(r, -0.04f, -0.01f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.01f, 0.01f) * s->U;
			p->col = (lv_rng_next(r) & 1) ? lv_rgb_make(120, 240, 255) : lv_rgb_make(255, 120, 220);
			p->alpha = (int)lv_rng_range(r, 120, 220);
			break;
		case PART_RAIN:
			p->r = lv_rng_range(r, 0.03f, 0.07f) * (float)s->h * p->depth; /* streak length */
			p->vy = lv_rng_range(r, 1.1f, 1.6f) * (float)s->h * p->depth;
			p->vx = p->vy * (s->weather == W_STORM ? 0.3f : 0.12f);
			p->col = lv_rgb_make(200, 210, 225);
			p->alpha = (int)lv_rng_range(r, 50, 110);
			break;
		case PART_BOKEH:
			p->r = lv_rng_range(r, 10.0f, 40.0f) * k;
			p->vy = lv_rng_range(r, -0.02f, -0.004f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.008f, 0.008f) * s->U;
			p->col = lv_rgb_mix(s->sun, lv_rgb_hsv(lv_rng_range(r, 0, 360), 0.5f, 1.0f), 0.45f);
			p->alpha = (int)lv_rng_range(r, 30, 80);
			break;
		default:
			p->r = lv_rng_range(r, 1.2f, 3.0f) * k;
			p->vy = lv_rng_range(r, -0.025f, -0.006f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.01f, 0.01f) * s->U;
			p->col = lv_rgb_mix(s->sun, lv_rgb_make(255, 255, 255), 0.4f);
			p->alpha = (int)lv_rng_range(r, 50, 120);
		}
	}
	s->n_parts = i;
}

/* A headland with a lighthouse on one side of the frame, standing in the water (depth 0.4). */
static int add_lighthouse(lv_scene *s, lv_rng *r)
{
	float H = (float)s->h, x0 = -(float)s->w * 0.5f, side = lv_rng_next(r) & 1 ? 1.0f : -1.0f;
	float tx = (float)s->w * (0.5f + side * 0.24f), cliff = 0.6f * H, tw = 0.018f * s->U, th = 0.2f * H;
	float land0 = side > 0 ? (float)s->w * 0.56f : -0.2f * (float)s->w;
	float land1 = side > 0 ? 1.2f * (float)s->w : (float)s->w * 0.44f;
	layer *L;
	int i, err = new_layer(s, 0.4f, 0.75f, 0.05f);
	if (err)
		return err;
	L = &s->layers[s->n_layers - 1];
	for (i = 0; i < s->nsamp; i++) {
		float wx = x0 + (float)i, y = 2.0f * H;
		if (wx > land0 && wx < land1) {
			/* the cliff: a rounded shoulder falling to the sea at the inner end */
			float edge = side > 0 ? wx - land0 : land1 - wx;
			y = cliff + 0.14f * H * expf(-edge / (0.05f * s->U)) + 0.008f * H * sinf(wx * 0.05f);
		}
		if (fabsf(wx - tx) < tw) {
			float k = fabsf(wx - tx) / tw;
			y = fminf(y, cliff - th * (1.0f - 0.1f * k) + 0.02f * H * k);
		}
		if (fabsf(wx - tx) < tw * 1.5f)
			y = fminf(y, cliff - th - 0.03f * H + 0.02f * H * fabsf(wx - tx) / (tw * 1.5f)); /* the lantern */
		L->hmap[i] = y;
	}
	s->lamp_x = tx;
	s->lamp_y = cliff - th - 0.01f * H;
	s->lamp_depth = 0.4f;
	return LV_OK;
}

static int build(lv_scene *s, lv_rng *r)
{
	int err = LV_OK, i;
	float H = (float)s->h;
	s->nsamp = 2 * s->w + 2;
	switch (s->kind) {
	case K_MOUNTAINS:
		err = relief_layer(s, r, 0.10f, 0.47f, 0.13f, 1.6f, 1);
		if (!err)
			err = relief_layer(s, r, 0.32f, 0.57f, 0.09f, 2.3f, 1);
		if (!err)
			err = relief_layer(s, r, 0.62f, 0.70f, 0.05f, 1.9f, 0);
		if (!err) {
			err = relief_layer(s, r, 1.0f, 0.87f, 0.03f, 1.1f, 0);
			if (!err && lv_rng_next(r) % 2)
				add_trees(s->layers[3].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.08f * H, 0.22f * H,
				          0.05f * s->U, 0.5f * s->U, 0);
		}
		break;
	case K_FOREST:
		err = relief_layer(s, r, 0.12f, 0.56f, 0.04f, 1.4f, 0);
		if (!err) {
			err = relief_layer(s, r, 0.35f, 0.64f, 0.03f, 1.8f, 0);
			if (!err)
				add_trees(s->layers[1].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.03f * H, 0.06f * H,
				          0.012f * s->U, 0.03f * s->U, 10);
		}
		if (!err) {
			err = relief_layer(s, r, 0.65f, 0.74f, 0.02f, 1.5f, 0);
			if (!err)
				add_trees(s->layers[2].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.08f * H, 0.15f * H,
				          0.03f * s->U, 0.09f * s->U, 35);
		}
		if (!err) {
			err = relief_layer(s, r, 1.0f, 0.89f, 0.015f, 1.0f, 0);
			if (!err)
				add_trees(s->layers[3].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.22f * H, 0.38f * H,
				          0.3f * s->U, 0.7f * s->U, 50);
		}
		break;
	case K_CITY: {
		lv_rgb warm = lv_rgb_make(255, 214, 140);
		int lit = s->pal == P_NIGHT || s->pal == P_DUSK || s->pal == P_NEON || s->pal == P_MISTY;
		if (s->pal == P_NEON)
			warm = lv_rgb_make(140, 230, 255);
		if (!lit) /* by day the windows reflect the sky */
			warm = lv_rgb_mix(s->horizon, lv_rgb_make(255, 255, 255), 0.3f);
		err = new_layer(s, 0.10f, 0.62f, 0.15f);
		if (!err)
			add_buildings(s, &s->layers[0], r, 0.02f, 0.05f, 0.05f, 0.2f, 0, warm);
		if (!err)
			err = new_layer(s, 0.35f, 0.66f, 0.2f);
		if (!err)
			add_buildings(s, &s->layers[1], r, 0.03f, 0.07f, 0.08f, 0.3f, 1, warm);
		if (!err)
			err = new_layer(s, 0.70f, 0.74f, 0.15f);
		if (!err)
			add_buildings(s, &s->layers[2], r, 0.05f, 0.1f, 0.04f, 0.2f, 1, warm);
		if (!err)
			err = relief_layer(s, r, 1.0f, 0.8f, 0.004f, 0.5f, 0);
		for (i = 0; !err && i < 24; i++) {
			/* two lanes, one each way */
			particle *p = &s->cars[s->n_cars++];
			int lane = i & 1;
			p->x = lv_rng_range(r, -0.5f, 1.5f) * (float)s->w;
			p->y = (lane ? 0.85f : 0.9f) * H;
			p->r = lv_rng_range(r, 0.05f, 0.08f) * s->U; /* length */
			p->vx = lv_rng_range(r, 0.08f, 0.16f) * s->U * (lane ? -1.0f : 1.0f);
			p->col = lv_rgb_hsv(lv_rng_range(r, 0, 360), lv_rng_range(r, 0.2f, 0.6f), lv_rng_range(r, 0.35f, 0.75f));
			p->depth = 1.0f;
		}
		break;
	}
	case K_SEA:
		err = relief_layer(s, r, 0.08f, 0.565f, 0.035f, 2.2f, 0);
		if (!err) {
			/* a coast or islands on part of the horizon only */
			float f = lv_rng_range(r, 0.8f, 1.6f) * 2.0f * PI_F / s->U, ph = lv_rng_range(r, 0, 2 * PI_F);
			layer *L = &s->layers[0];
			for (i = 0; i < s->nsamp; i++) {
				float rel = (L->base - L->hmap[i]) / L->amp;
				float env = powf(fmaxf(0.0f, sinf((float)i * f + ph)), 0.6f);
				L->hmap[i] = 0.607f * H - env * (0.035f * H + 0.02f * H * rel);
			}
			err = relief_layer(s, r, 0.2f, 0.605f, 0.0f, 1.0f, 0);
		}
		if (!err && s->lighthouse) {
			s->lamp_layer = s->n_layers;
			err = add_lighthouse(s, r);
		}
		/* the boat sails between the sea plane and the nearer waves; the pier stands in the near water */
		s->boat_layer = s->n_layers - 1;
		s->pier_layer = s->n_layers; /* drawn after the middle waves, before the nearest */
		/* (to one side: the characters' cards stand in the middle) */
		s->boat_x = (lv_rng_next(r) & 1 ? lv_rng_range(r, 0.1f, 0.26f) : lv_rng_range(r, 0.74f, 0.9f)) * (float)s->w;
		s->boat_len = lv_rng_range(r, 0.1f, 0.13f) * s->U;
		s->boat_vx = lv_rng_range(r, 0.006f, 0.012f) * s->U * (lv_rng_next(r) & 1 ? 1.0f : -1.0f);
		if (lv_rng_next(r) & 1) {
			s->pier_x0 = -0.3f * (float)s->w;
			s->pier_x1 = lv_rng_range(r, 0.3f, 0.42f) * (float)s->w;
		} else {
			s->pier_x0 = lv_rng_range(r, 0.58f, 0.7f) * (float)s->w;
			s->pier_x1 = 1.3f * (float)s->w;
		}
		for (i = 0; !err && i < 2; i++) {
			layer *L;
			err = relief_layer(s, r, i ? 1.0f : 0.55f, i ? 0.86f : 0.72f, i ? 0.01f : 0.005f, i ? 1.2f : 2.5f, 0);
			if (err)
				break;
			L = &s->layers[s->n_layers - 1];
			L->wave = 1;
			L->wk = (i ? 5.0f : 9.0f) * 2.0f * PI_F / s->U;
			L->wspeed = lv_rng_range(r, 0.6f, 1.1f) * (lv_rng_next(r) & 1 ? 1.0f : -1.0f);
			L->wphase = lv_rng_range(r, 0, 2 * PI_F);
		}
		break;
	case K_DUNES:
		err = relief_layer(s, r, 0.10f, 0.60f, 0.035f, 1.3f, 0);
		if (!err)
			err = relief_layer(s, r, 0.35f, 0.68f, 0.05f, 1.5f, 0);
		if (!err)
			err = relief_layer(s, r, 0.65f, 0.78f, 0.05f, 1.1f, 0);
		if (!err)
			err = relief_layer(s, r, 1.0f, 0.9f, 0.04f, 0.8f, 0);
		break;
	case K_COUNTRY:
		err = relief_layer(s, r, 0.12f, 0.58f, 0.05f, 1.2f, 0);
		if (!err)
			err = relief_layer(s, r, 0.4f, 0.68f, 0.04f, 1.6f, 0);
		if (!err) {
			err = relief_layer(s, r, 1.0f, 0.86f, 0.03f, 0.9f, 0);
			if (!err)
				add_trees(s->layers[2].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.12f * H, 0.26f * H,
				          0.35f * s->U, 0.9f * s->U, 60);
		}
		break;
	case K_OPEN: /* nothing named: a plain, quiet horizon */
		err = relief_layer(s, r, 0.15f, 0.62f, 0.025f, 1.0f, 0);
		if (!err)
			err = relief_layer(s, r, 0.5f, 0.72f, 0.02f, 1.3f, 0);
		if (!err)
			err = relief_layer(s, r, 1.0f, 0.88f, 0.015f, 0.8f, 0);
		break;
	default: /* K_STAGE: a floor under a soft backdrop */
		err = relief_layer(s, r, 0.9f, 0.8f, 0.0f, 1.0f, 0);
		for (i = 0; i < MAX_PARTS / 4; i++) {
			particle *p = &s->back[i];
			p->x = lv_rng_range(r, -0.1f, 1.1f) * (float)s->w;
			p->y = lv_rng_range(r, 0.05f, 0.75f) * H;
			p->r = lv_rng_range(r, 0.03f, 0.09f) * s->U;
			p->depth = lv_rng_range(r, 0.15f, 0.5f);
			p->vx = lv_rng_range(r, -0.01f, 0.01f) * s->U;
			p->vy = lv_rng_range(r, -0.006f, 0.006f) * H;
			p->phase = lv_rng_range(r, 0, 2 * PI_F);
			p->freq = lv_rng_range(r, 0.3f, 0.9f);
			p->col = lv_rgb_mix(s->sun, lv_rgb_hsv(lv_rng_range(r, 0, 360), 0.55f, 1.0f), 0.5f);
			p->alpha = (int)lv_rng_range(r, 20, 60);
		}
		s->n_back = MAX_PARTS / 4;
	}
	if (err)
		return err;
	color_layers(s);

	/* the light */
	s->has_sun = s->pal != P_STORM;
	s->moon = s->pal == P_NIGHT;
	s->sun_x = lv_rng_range(r, 0.2f, 0.8f) * (float)s->w;
	if (s->pal == P_DAWN || s->pal == P_DUSK)
		s->sun_y = lv_rng_range(r, 0.38f, 0.5f) * H;
	else
		s->sun_y = lv_rng_range(r, 0.14f, 0.36f) * H;
	s->sun_r = (s->moon ? 0.038f : 0.048f) * s->U;
	s->sun_alpha = s->pal == P_MISTY ? 0.55f : 1.0f;
	if (s->kind == K_STAGE) {
		s->sun_x = lv_rng_range(r, 0.3f, 0.7f) * (float)s->w;
		s->sun_y = -0.05f * H;
	}
	s->n_beams = 0;
	if (s->pal != P_NIGHT && s->pal != P_NEON && s->pal != P_STORM) {
		s->n_beams = 2 + (int)(lv_rng_next(r) % 3);
		s->beam_alpha = s->pal == P_MISTY ? 26 : 17;
		for (i = 0; i < s->n_beams; i++) {
			s->beam_ang[i] = lv_rng_range(r, 0.3f, 0.7f) * PI_F;
			s->beam_half[i] = lv_rng_range(r, 0.02f, 0.06f);
			s->beam_phase[i] = lv_rng_range(r, 0, 2 * PI_F);
		}
	}
	/* clouds */
	s->n_clouds = s->kind == K_STAGE                                                ? 0
	              : s->pal == P_STORM || s->kind == K_COUNTRY || s->kind == K_OPEN ? MAX_CLOUDS
	                                                                                : 2 + (int)(lv_rng_next(r) % 4);
	for (i = 0; i < s->n_clouds; i++) {
		cloud *c = &s->clouds[i];
		c->x = lv_rng_range(r, -0.1f, 1.1f) * (float)s->w;
		c->y = lv_rng_range(r, 0.1f, 0.38f) * H;
		c->s = lv_rng_range(r, 0.045f, 0.085f) * s->U;
		c->vx = lv_rng_range(r, 0.006f, 0.02f) * s->U * (lv_rng_next(r) & 1 ? 1.0f : -1.0f);
		if (s->pal == P_DAWN || s->pal == P_DUSK || s->pal == P_NEON)
			c->col = lv_rgb_mix(s->sun, s->sky_mid, 0.45f);
		else if (s->pal == P_NIGHT)
			c->col = lv_rgb_mix(s->sky_mid, s->horizon, 0.6f);
		else if (s->pal == P_STORM) {
			c->col = lv_rgb_mix(s->sky_mid, s->far, 0.5f);
			c->vx *= 3.0f;
			c->s *= 1.5f;
		} else if (s->kind == K_COUNTRY || s->kind == K_OPEN) {
			/* wind over open land */
			c->col = lv_rgb_mix(s->horizon, lv_rgb_make(255, 255, 255), 0.45f);
			c->vx *= 5.0f;
		} else
			c->col = lv_rgb_mix(s->horizon, lv_rgb_make(255, 255, 255), 0.45f);
		c->shade = lv_rgb_mix(c->col, s->sky_top, 0.35f);
		c->alpha = (int)lv_rng_range(r, 170, 230);
		if (s->pal == P_NIGHT)
			c->alpha /= 2;
		c->flip = (lv_rng_next(r) & 1) ? 1.0f : -1.0f;
	}
	/* stars */
	s->n_stars = 0;
	if (s->pal == P_NIGHT || s->pal == P_NEON || (s->kind == K_STAGE && s->pal == P_DUSK)) {
		s->n_stars = s->pal == P_NEON ? 60 : MAX_STARS;
		for (i = 0; i < s->n_stars; i++) {
			particle *p = &s->stars[i];
			p->x = lv_rng_range(r, -0.2f, 1.2f) * (float)s->w;
			p->y = lv_rng_range(r, 0.0f, 0.62f) * H;
			p->r = lv_rng_range(r, 0.7f, 2.0f) * s->U / 720.0f;
			p->phase = lv_rng_range(r, 0, 2 * PI_F);
			p->freq = lv_rng_range(r, 0.8f, 3.0f);
			p->col = lv_rgb_mix(lv_rgb_make(255, 255, 255), s->sun, lv_rng_range(r, 0, 0.6f));
			p->alpha = (int)lv_rng_range(r, 120, 255);
		}
	}
	for (i = 0; i < s->n_layers; i++) {
		layer *L = &s->layers[i];
		int k;
		L->low = L->hmap[0];
		for (k = 1; k < s->nsamp; k++)
			if (L->hmap[k] > L->low)
				L->low = L->hmap[k];
		if (L->wave)
			L->low += 1.5f * L->amp;
	}
	s->haze_alpha = s->pal == P_MISTY ? 130 : s->kind == K_STAGE ? 0 : 55;
	make_particles(s, r);
	s->hull = lv_rgb_mix(lv_rgb_make(96, 58, 40), s->near, 0.45f);
	if (s->weather == W_STORM) {
		int b, k;
		for (b = 0; b < 2; b++) {
			float x = lv_rng_range(r, 0.15f, 0.85f) * (float)s->w, y = lv_rng_range(r, 0.08f, 0.18f) * H;
			for (k = 0; k < 9; k++) {
				s->bolt[b][k][0] = x;
				s->bolt[b][k][1] = y;
				x += lv_rng_range(r, -0.035f, 0.035f) * (float)s->w;
				y += lv_rng_range(r, 0.035f, 0.06f) * H;
			}
		}
		s->bolt_phase = lv_rng_range(r, 0, 2.0f);
	}
	return LV_OK;
}

int lv_scene_new(lv_scene **out, uint32_t seed, const char *text, int w, int h)
{
	lv_scene *s;
	lv_rng r;
	choice c;
	int kind, pal, cpal, err;
	float hue, sat;
	*out = NULL;
	if (w < 16 || h < 16)
		return lv_error_set(LV_EINVALID, "scene: bad size %dx%d", w, h);
	choose(text, &c);
	kind = c.kind;
	pal = palette_of(&c);
	cpal = colours_of(&c, pal);
	lv_rng_seed(&r, seed);
	s = lv_calloc(1, sizeof(*s));
	if (!s)
		return LV_ENOMEM;
	s->w = w;
	s->h = h;
	s->U = sqrtf((float)w * (float)h);
	s->cx = (float)w * 0.5f;
	s->cy = (float)h * 0.55f;
	s->kind = kind;
	s->pal = pal;
	s->weather = c.weather;
	s->lighthouse = c.lighthouse;
	s->boat = c.boat;
	s->harbour = c.harbour;
	s->props = c.props;
	hue = lv_rng_range(&r, -16.0f, 16.0f);
	sat = lv_rng_range(&r, 0.85f, 1.15f);
	s->sky_top = lv_rgb_shift(pal_color(cpal, 0), hue, sat);
	s->sky_mid = lv_rgb_shift(pal_color(cpal, 1), hue, sat);
	s->horizon = lv_rgb_shift(pal_color(cpal, 2), hue * 0.6f, sat);
	s->sun = lv_rgb_shift(pal_color(cpal, 3), hue * 0.4f, sat);
	s->far = lv_rgb_shift(pal_color(cpal, 4), hue, sat);
	s->near = lv_rgb_shift(pal_color(cpal, 5), hue, sat);
	if ((pal == P_STORM || pal == P_MISTY) && (c.time == T_DAWN || c.time == T_DUSK)) {
		/* a grey sky at sunrise or sunset still glows at the horizon */
		lv_rgb warm = pal_color(c.time == T_DAWN ? P_DAWN : P_DUSK, 2);
		s->horizon = lv_rgb_mix(s->horizon, warm, 0.5f);
		s->sky_mid = lv_rgb_mix(s->sky_mid, warm, 0.25f);
	}
		if (kind == K_CITY) /* streets are asphalt, not grass */
		s->near = lv_rgb_mix(s->near, lv_rgb_make(48, 50, 58), 0.6f);
	s->horizon_y = 0.62f * (float)h;
	s->top = lv_malloc(sizeof(int32_t) * (size_t)w);
	s->rows = lv_malloc(sizeof(lv_px) * (size_t)h);
	s->sky_x = lv_malloc(sizeof(int32_t) * (2 * (size_t)w + 2 * (size_t)h));
	if (!s->top || !s->rows || !s->sky_x) {
		lv_scene_free(s);
		return LV_ENOMEM;
	}
	err = build(s, &r);
	if (err) {
		lv_scene_free(s);
		return err;
	}
	if (kind != K_STAGE && pal == P_DAY && c.light >= T_MORNING) {
		/* the sun's course: low in the east (left) in the morning, high at midday, lower in the west */
		float u = s->sun_x / (float)w; /* 0.2 .. 0.8 */
		if (c.light == T_MORNING)
			s->sun_x = (0.1f + 0.4f * (u - 0.2f)) * (float)w, s->sun_y = (0.32f + 0.1f * u) * (float)h;
		else if (c.light == T_NOON)
			s->sun_y = (0.06f + 0.1f * u) * (float)h;
		else
			s->sun_x = (0.62f + 0.4f * (u - 0.2f)) * (float)w, s->sun_y = (0.24f + 0.1f * u) * (float)h;
	}
	place_props(s, seed);
	*out = s;
	return LV_OK;
}

void lv_scene_free(lv_scene *s)
{
	int i;
	if (!s)
		return;
	for (i = 0; i < s->n_layers; i++)
		free(s->layers[i].hmap);
	free(s->top);
	free(s->rows);
	free(s->sky_x);
	lv_canvas_free(&s->sky);
	free(s);
}

void lv_scene_palette(const lv_scene *s, lv_rgb out[5])
{
	out[0] = s->sky_top;
	out[1] = s->horizon;
	out[2] = s->sun;
	out[3] = s->far;
	out[4] = s->near;
}

/* ---- drawing ---------------------------------------------------------------------- */

void lv_scene_project(const lv_scene *s, const lv_view *v, float depth, float *zoom, float *par)
{
	(void)s;
	*zoom = 1.0f + (v->zoom - 1.0f) * (0.25f + 0.75f * depth);
	*par = 0.08f + 0.92f * depth;
}

static float sx_of(const lv_scene *s, const lv_view *v, float depth, float wx)
{
	float z, par;
	lv_scene_project(s, v, depth, &z, &par);
	return (wx - s->cx - v->pan_x * par) * z + s->cx;
}

static float sy_of(const lv_scene *s, const lv_view *v, float depth, float wy)
{
	float z, par;
	lv_scene_project(s, v, depth, &z, &par);
	return (wy - s->cy - v->pan_y * par) * z + s->cy;
}

static lv_rgb sky_at(const lv_scene *s, float wy)
{
	float u = wy / s->horizon_y;
	if (u < 0.55f)
		return lv_rgb_mix(s->sky_top, s->sky_mid, smoothstep(-0.15f, 0.55f, u));
	return lv_rgb_mix(s->sky_mid, s->horizon, smoothstep(0.55f, 1.0f, u));
}

static void draw_sky(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float z, par;
	int y;
	lv_scene_project(s, v, 0.02f, &z, &par);
	for (y = 0; y < s->h; y++) {
		float wy = ((float)y + 0.5f - s->cy) / z + s->cy + v->pan_y * par;
		s->rows[y] = lv_canvas_color(cv, sky_at(s, wy));
	}
	lv_draw_rows(cv, s->rows);
}

static void draw_stars(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	int i;
	for (i = 0; i < s->n_stars; i++) {
		const particle *p = &s->stars[i];
		float x = sx_of(s, v, 0.02f, p->x), y = sy_of(s, v, 0.02f, p->y);
		float tw = 0.6f + 0.4f * sinf(v->t * p->freq + p->phase);
		if (x < -8 || y < -8 || x > (float)s->w + 8 || y > (float)s->h + 8)
			continue;
		lv_draw_glow(cv, x, y, p->r * 2.6f, p->r * 2.6f, lv_canvas_color(cv, p->col), (int)((float)p->alpha * tw));
	}
}

static void draw_light(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float z, par, x, y, r, pulse = 1.0f + 0.03f * sinf(v->t * 1.3f);
	lv_px sun = lv_canvas_color(cv, s->sun);
	int a = (int)(256.0f * s->sun_alpha);
	lv_scene_project(s, v, 0.03f, &z, &par);
	x = sx_of(s, v, 0.03f, s->sun_x);
	y = sy_of(s, v, 0.03f, s->sun_y);
	r = s->sun_r * z;
	if (s->kind == K_STAGE) {
		lv_draw_glow(cv, x, y, 0.7f * s->U * pulse, 0.55f * s->U * pulse, sun, 110);
		return;
	}
	lv_draw_glow(cv, x, y, 9.0f * r * pulse, 9.0f * r * pulse, sun, a * (s->moon ? 60 : 100) / 256);
	lv_draw_glow(cv, x, y, 3.2f * r * pulse, 3.2f * r * pulse, sun, a * (s->moon ? 90 : 150) / 256);
	lv_draw_ellipse(cv, x, y, r, r, lv_canvas_color(cv, lv_rgb_mix(s->sun, lv_rgb_make(255, 255, 255), 0.55f)),
	                a * 250 / 256);
	if (s->moon) {
		/* a crescent: cover part of the disc with the glowing sky just beside it */
		int sx = (int)(x + 1.45f * r), sy = (int)(y - 0.15f * r);
		if (sx >= 0 && sy >= 0 && sx < s->w && sy < s->h) {
			size_t o = (size_t)sy * s->w + (size_t)sx;
			lv_px sky = { { cv->plane[0][o], cv->plane[1][o], cv->plane[2][o] } };
			lv_draw_ellipse(cv, x + 0.4f * r, y - 0.15f * r, r * 0.86f, r * 0.86f, sky, 240);
		}
	}
}

static void draw_clouds(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	static const float puffs[5][4] = {
		{ -1.2f, 0.10f, 0.75f, 0.42f }, { -0.45f, -0.22f, 0.85f, 0.6f }, { 0.35f, -0.3f, 0.9f, 0.68f },
		{ 1.1f, 0.02f, 0.7f, 0.42f },   { 0.0f, 0.18f, 1.75f, 0.38f },
	};
	float z, par, span = (float)s->w * 1.6f;
	int i, k;
	lv_scene_project(s, v, 0.06f, &z, &par);
	for (i = 0; i < s->n_clouds; i++) {
		const cloud *c = &s->clouds[i];
		float wx = fmodf(c->x + c->vx * v->t + (float)s->w * 0.3f, span);
		float x, y, sc = c->s * z, e[4 * 5];
		lv_px col = lv_canvas_color(cv, c->col), shade = lv_canvas_color(cv, c->shade);
		if (wx < 0)
			wx += span;
		wx -= (float)s->w * 0.3f;
		x = sx_of(s, v, 0.06f, wx);
		y = sy_of(s, v, 0.06f, c->y);
		for (k = 0; k < 5; k++) {
			e[4 * k] = x + puffs[k][0] * sc * c->flip;
			e[4 * k + 1] = y + puffs[k][1] * sc;
			e[4 * k + 2] = puffs[k][2] * sc;
			e[4 * k + 3] = puffs[k][3] * sc;
		}
		/* the shaded underside shows below the lit body */
		for (k = 0; k < 5; k++)
			e[4 * k + 1] += 0.12f * sc;
		lv_draw_blob(cv, e, 5, shade, c->alpha);
		for (k = 0; k < 5; k++)
			e[4 * k + 1] -= 0.12f * sc;
		lv_draw_blob(cv, e, 5, col, c->alpha);
	}
}

static void draw_beams(lv_scene *s, lv_canvas *cv, const lv_view *v, int y_end)
{
	float x = sx_of(s, v, 0.03f, s->sun_x), y = sy_of(s, v, 0.03f, s->sun_y), len = 1.6f * (float)s->h;
	lv_px col = lv_canvas_color(cv, lv_rgb_mix(s->sun, lv_rgb_make(255, 255, 255), 0.3f));
	int i;
	for (i = 0; i < s->n_beams; i++) {
		float a = s->beam_ang[i] + 0.04f * sinf(0.35f * v->t + s->beam_phase[i]);
		float hw = s->beam_half[i] * (1.0f + 0.15f * sinf(0.5f * v->t + s->beam_phase[i]));
		float xy[6] = { x, y, x + len * cosf(a - hw), y + len * sinf(a - hw), x + len * cosf(a + hw),
			        y + len * sinf(a + hw) };
		lv_draw_poly_above(cv, xy, 3, col, s->beam_alpha, y_end);
	}
}

static void draw_layer(lv_scene *s, lv_canvas *cv, const lv_view *v, const layer *L, int y_end)
{
	float z, par, x0 = -(float)s->w * 0.5f, ytop, ybot;
	int x, y;
	lv_scene_project(s, v, L->depth, &z, &par);
	for (x = 0; x < s->w; x++) {
		float wx = ((float)x + 0.5f - s->cx) / z + s->cx + v->pan_x * par;
		float fi = wx - x0, wy;
		int i;
		if (fi < 0)
			fi = 0;
		if (fi > (float)(s->nsamp - 2))
			fi = (float)(s->nsamp - 2);
		i = (int)fi;
		wy = L->hmap[i] + (L->hmap[i + 1] - L->hmap[i]) * (fi - (float)i);
		if (L->wave) {
			float ph = L->wk * wx + L->wspeed * v->t * 2.0f + L->wphase;
			wy += L->amp * (sinf(ph) + 0.45f * sinf(2.3f * ph - 1.7f * v->t + 1.0f));
		}
		s->top[x] = (int32_t)lrintf(((wy - s->cy - v->pan_y * par) * z + s->cy) * 256.0f);
	}
	ytop = ((L->base - L->amp * 1.5f - s->cy - v->pan_y * par) * z + s->cy);
	ybot = (float)s->h;
	for (y = 0; y < s->h; y++) {
		float u = ((float)y - ytop) / (ybot - ytop);
		s->rows[y] = lv_canvas_color(cv, lv_rgb_mix(L->top, L->bottom, u < 0 ? 0 : u > 1 ? 1 : u));
	}
	lv_draw_layer(cv, s->top, s->rows, s->rows[0], 256, y_end);
	/* lit windows */
	for (x = L->win0; x < L->win1; x++) {
		const window *w = &s->wins[x];
		float ax = sx_of(s, v, L->depth, w->x), ay = sy_of(s, v, L->depth, w->y);
		float bx = sx_of(s, v, L->depth, w->x + w->w), by = sy_of(s, v, L->depth, w->y + w->h);
		if (bx < 0 || ax > (float)s->w || by < 0 || ay > (float)s->h)
			continue;
		lv_draw_rrect(cv, ax, ay, bx, by, 0.0f, lv_canvas_color(cv, w->col), w->alpha);
	}
}

static void draw_particles(lv_scene *s, lv_canvas *cv, const lv_view *v, const particle *ps, int n, int mode)
{
	int i;
	float m = 0.06f * s->U, spanx = (float)s->w + 2 * m, spany = (float)s->h + 2 * m;
	for (i = 0; i < n; i++) {
		const particle *p = &ps[i];
		float z, par, x, y, tw, r;
		lv_scene_project(s, v, p->depth, &z, &par);
		x = p->x + p->vx * v->t - v->pan_x * par + m;
		y = p->y + p->vy * v->t - v->pan_y * par + m;
		if (mode == PART_SNOW || mode == PART_FIREFLIES)
			x += 0.02f * s->U * sinf(v->t * p->freq + p->phase);
		if (mode == PART_FIREFLIES)
			y += 0.015f * s->U * sinf(v->t * p->freq * 0.7f + p->phase * 1.3f);
		x = fmodf(x, spanx);
		y = fmodf(y, spany);
		if (x < 0)
			x += spanx;
		if (y < 0)
			y += spany;
		x = (x - m - s->cx) * z + s->cx;
		y = (y - m - s->cy) * z + s->cy;
		r = p->r * z;
		tw = 0.65f + 0.35f * sinf(v->t * p->freq * 2.0f + p->phase);
		switch (mode) {
		case PART_SNOW:
			lv_draw_ellipse(cv, x, y, r, r, lv_canvas_color(cv, p->col), p->alpha);
			break;
		case PART_RAIN: {
			float len = r, dx = len * p->vx / p->vy, hw = 0.0011f * s->U * p->depth;
			float q[8] = { x - hw, y, x + hw, y, x + dx + hw, y + len, x + dx - hw, y + len };
			lv_draw_poly(cv, q, 4, lv_canvas_color(cv, p->col), p->alpha);
			break;
		}
		case PART_BOKEH:
			lv_draw_ellipse(cv, x, y, r, r, lv_canvas_color(cv, p->col), (int)((float)p->alpha * tw));
			lv_draw_glow(cv, x, y, r * 1.6f, r * 1.6f, lv_canvas_color(cv, p->col), (int)((float)p->alpha * tw));
			break;
		default:
			lv_draw_glow(cv, x, y, r * 3.0f, r * 3.0f, lv_canvas_color(cv, p->col),
			             (int)((float)p->alpha * (mode == PART_MOTES ? 1.0f : tw)));
		}
	}
}

/* The sky, stars and sun seen in view v: drawn once at rest into s->sky, then resampled (nearest
 * sample) with the projection of the sky's depth.  Twinkle and pulse are left out of the still.  Most
 * sky rows are one colour (the gradient) but for the span where the sun or a star lies: the rest of a
 * row is filled, only the span is resampled, in runs of consecutive source columns (at the sky's zoom,
 * at least 1, a run is tens of pixels long). */
static void draw_sky_cached(lv_scene *s, lv_canvas *cv, const lv_view *v, int y_end)
{
	float z, par;
	int x, y, p, w = s->w, prev = -1; /* in locals: the byte stores could alias s */
	int32_t *run = s->sky_x + w, *span = run + w;
	if (!s->sky_ready) {
		lv_view rest = { 0.0f, 1.0f, 0.0f, 0.0f };
		if (lv_canvas_init(&s->sky, s->w, s->h, cv->yuv)) {
			/* no memory for the still: draw directly */
			draw_sky(s, cv, v);
			draw_stars(s, cv, v);
			if (s->has_sun)
				draw_light(s, cv, v);
			return;
		}
		draw_sky(s, &s->sky, &rest);
		draw_stars(s, &s->sky, &rest);
		if (s->has_sun)
			draw_light(s, &s->sky, &rest);
		for (y = 0; y < s->h; y++) {
			int lo = w, hi = 0;
			for (p = 0; p < 3; p++) {
				const uint8_t *r = s->sky.plane[p] + (size_t)y * (size_t)w;
				int a = 1, b = w;
				while (a < b && r[a] == r[0])
					a++;
				while (b > a && r[b - 1] == r[0])
					b--;
				if (a < b) {
					lo = a < lo ? a : lo;
					hi = b > hi ? b : hi;
				}
			}
			span[2 * y] = lo < hi ? lo : 0;
			span[2 * y + 1] = lo < hi ? hi : 0;
		}
		s->sky_ready = 1;
	}
	lv_scene_project(s, v, 0.02f, &z, &par);
	for (x = 0; x < w; x++) {
		float wx = ((float)x + 0.5f - s->cx) / z + s->cx + v->pan_x * par;
		int ix = (int)floorf(wx);
		s->sky_x[x] = ix < 0 ? 0 : ix >= w ? w - 1 : ix;
	}
	/* run[x]: the end of the run of screen columns from x on whose sources are consecutive (copied at once) */
	run[w - 1] = w;
	for (x = w - 2; x >= 0; x--)
		run[x] = s->sky_x[x + 1] == s->sky_x[x] + 1 ? run[x + 1] : x + 1;
	for (y = 0; y < y_end; y++) {
		float wy = ((float)y + 0.5f - s->cy) / z + s->cy + v->pan_y * par;
		int iy = (int)floorf(wy), lo, hi, xa, xb;
		size_t so, d = (size_t)y * (size_t)w;
		iy = iy < 0 ? 0 : iy >= s->h ? s->h - 1 : iy;
		if (y > 0 && iy == prev) { /* the same source row as the row above (the sky is zoomed in) */
			for (p = 0; p < 3; p++)
				memcpy(cv->plane[p] + d, cv->plane[p] + d - w, (size_t)w);
			continue;
		}
		prev = iy;
		so = (size_t)iy * (size_t)w;
		lo = span[2 * iy];
		hi = span[2 * iy + 1];
		/* the screen columns [xa, xb) whose source lies in [lo, hi) (the source columns only grow with x) */
		for (xa = 0, xb = w; xa < xb;) {
			int m = (xa + xb) / 2;
			if (s->sky_x[m] < lo)
				xa = m + 1;
			else
				xb = m;
		}
		for (xb = w, x = xa; x < xb;) {
			int m = (x + xb) / 2;
			if (s->sky_x[m] < hi)
				x = m + 1;
			else
				xb = m;
		}
		for (p = 0; p < 3; p++) {
			const uint8_t *restrict src = s->sky.plane[p] + so;
			uint8_t *restrict dst = cv->plane[p] + d;
			if (xa > 0)
				memset(dst, src[0], (size_t)xa);
			for (x = xa; x < xb;) {
				/* in 16-byte moves: what one writes past the end of its run, the next run (or the fill after
				 * the span) writes over; never past the row */
				int e = run[x] < xb ? run[x] : xb, i = s->sky_x[x] - x;
				for (; x < e && x + 16 <= w && x + i + 16 <= w; x += 16)
					memcpy(dst + x, src + x + i, 16);
				for (; x < e; x++)
					dst[x] = src[x + i];
				x = e;
			}
			if (xb < w)
				memset(dst + xb, src[0], (size_t)(w - xb));
		}
	}
}

/* Cars on the near road: bodies, with head and tail lights when the light is low. */
static void draw_cars(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	int i, lit = s->pal == P_NIGHT || s->pal == P_DUSK || s->pal == P_DAWN || s->pal == P_NEON || s->pal == P_STORM ||
	             s->pal == P_MISTY;
	float span = 2.0f * (float)s->w;
	lv_px head = lv_canvas_color(cv, lv_rgb_make(255, 244, 210)), tail = lv_canvas_color(cv, lv_rgb_make(255, 60, 50));
	lv_px road = lv_canvas_color(cv, lv_rgb_mix(s->near, lv_rgb_make(255, 255, 255), 0.25f));
	/* the lane line */
	for (i = 0; i < 40; i++) {
		float wx = -0.5f * (float)s->w + (float)i * 0.05f * (float)s->w, wy = 0.872f * (float)s->h;
		float ax = sx_of(s, v, 1.0f, wx), bx = sx_of(s, v, 1.0f, wx + 0.022f * (float)s->w);
		float ay = sy_of(s, v, 1.0f, wy), by = sy_of(s, v, 1.0f, wy + 0.003f * (float)s->h);
		if (bx >= 0 && ax <= (float)s->w)
			lv_draw_rrect(cv, ax, ay, bx, by, 0, road, 170);
	}
	for (i = 0; i < s->n_cars; i++) {
		const particle *p = &s->cars[i];
		float wx = fmodf(p->x + p->vx * v->t + 0.5f * (float)s->w, span), len = p->r, hgt = 0.36f * p->r;
		float ax, ay, bx, by, dir = p->vx > 0 ? 1.0f : -1.0f;
		if (wx < 0)
			wx += span;
		wx -= 0.5f * (float)s->w;
		ax = sx_of(s, v, 1.0f, wx);
		bx = sx_of(s, v, 1.0f, wx + len);
		ay = sy_of(s, v, 1.0f, p->y - hgt);
		by = sy_of(s, v, 1.0f, p->y);
		if (bx < -20.0f || ax > (float)s->w + 20.0f)
			continue;
		lv_draw_rrect(cv, ax, ay, bx, by, 0.3f * (by - ay), lv_canvas_color(cv, p->col), 256);
		lv_draw_rrect(cv, ax + 0.25f * (bx - ax), ay - 0.5f * (by - ay), bx - 0.25f * (bx - ax), ay + 0.2f * (by - ay),
		              0.3f * (by - ay), lv_canvas_color(cv, lv_rgb_scale(p->col, 0.7f)), 256);
		if (lit) {
			float fx = dir > 0 ? bx : ax, rx = dir > 0 ? ax : bx, my = ay + 0.55f * (by - ay);
			lv_draw_glow(cv, fx, my, 0.9f * (by - ay), 0.6f * (by - ay), head, 230);
			lv_draw_glow(cv, rx, my, 0.5f * (by - ay), 0.4f * (by - ay), tail, 200);
		}
	}
}

/* The lighthouse's lamp: a glow and a beam sweeping from side to side. */
static void draw_lamp(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float x = sx_of(s, v, s->lamp_depth, s->lamp_x), y = sy_of(s, v, s->lamp_depth, s->lamp_y);
	float c = cosf(1.1f * v->t), len = 1.1f * (float)s->w * fabsf(c), dir = c >= 0 ? 1.0f : -1.0f;
	lv_px col = lv_canvas_color(cv, lv_rgb_make(255, 244, 200));
	if (len > 0.02f * (float)s->w) {
		float xy[6] = { x, y, x + dir * len, y - 0.05f * (float)s->h, x + dir * len, y + 0.07f * (float)s->h };
		lv_draw_poly(cv, xy, 3, col, 60);
	}
	lv_draw_glow(cv, x, y, 0.03f * s->U, 0.03f * s->U, col, 230);
}

/* A boat of length len (pixels at depth) with its waterline at (wx, wy): a hull, a wheelhouse, a mast and a
 * sail, bobbing on the swell. */
static void draw_boat(lv_scene *s, lv_canvas *cv, const lv_view *v, float depth, float wx, float wy, float len,
                      float phase)
{
	float z, par, x, y, L, H, bob = sinf(1.4f * v->t + phase);
	lv_px hull = lv_canvas_color(cv, s->hull), cabin = lv_canvas_color(cv, lv_rgb_mix(s->hull, s->horizon, 0.45f));
	lv_px sail = lv_canvas_color(cv, lv_rgb_mix(lv_rgb_make(250, 246, 236), s->horizon, 0.3f));
	lv_scene_project(s, v, depth, &z, &par);
	x = sx_of(s, v, depth, wx);
	y = sy_of(s, v, depth, wy) + 0.08f * len * z * bob;
	L = len * z;
	H = 0.22f * L;
	if (x + L < 0 || x - L > (float)s->w)
		return;
	{
		float h[8] = { x - 0.5f * L, y - H, x + 0.5f * L, y - H, x + 0.36f * L, y + 0.25f * H, x - 0.4f * L, y + 0.25f * H };
		float mast = 1.6f * L, sl[6] = { x + 0.02f * L, y - H - 0.1f * L, x + 0.02f * L, y - H - mast * 0.95f,
			                          x + 0.42f * L, y - H - 0.12f * L };
		lv_draw_poly(cv, sl, 3, sail, 235);
		lv_draw_rrect(cv, x - 0.012f * L, y - H - mast, x + 0.012f * L, y - H, 0, hull, 256);
		lv_draw_rrect(cv, x - 0.3f * L, y - H - 0.26f * L, x - 0.06f * L, y - H + 1.0f, 0.02f * L, cabin, 256);
		lv_draw_poly(cv, h, 4, hull, 256);
	}
}

/* A wooden pier on posts reaching out from one side into the near water, boats moored along it. */
static void draw_pier(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float H = (float)s->h, deck = 0.79f * H, k;
	float x0 = sx_of(s, v, 0.8f, s->pier_x0), x1 = sx_of(s, v, 0.8f, s->pier_x1);
	float y0 = sy_of(s, v, 0.8f, deck), y1 = sy_of(s, v, 0.8f, deck + 0.04f * H), yb = sy_of(s, v, 0.8f, 0.92f * H);
	lv_rgb wood = lv_rgb_mix(lv_rgb_make(110, 80, 56), s->near, 0.4f);
	lv_px plank = lv_canvas_color(cv, wood), post = lv_canvas_color(cv, lv_rgb_scale(wood, 0.7f));
	float step = 0.06f * s->U * (x1 - x0) / (s->pier_x1 - s->pier_x0);
	int n;
	/* moored boats behind the pier, along its outer half */
	{
		float tip = s->pier_x0 < 0 ? s->pier_x1 : s->pier_x0, in = s->pier_x0 < 0 ? -1.0f : 1.0f;
		draw_boat(s, cv, v, 0.7f, tip + in * 0.08f * (float)s->w, 0.765f * H, 0.1f * s->U, 0.7f);
		draw_boat(s, cv, v, 0.7f, tip + in * 0.26f * (float)s->w, 0.77f * H, 0.09f * s->U, 2.1f);
	}
	for (k = x0, n = 0; k <= x1 && n < 200; k += step > 2.0f ? step : 2.0f, n++)
		lv_draw_rrect(cv, k - 0.008f * s->U, y1, k + 0.008f * s->U, yb, 0, post, 256);
	lv_draw_rrect(cv, x0, y0, x1, y1, 0, plank, 256);
}

/* Lightning: a jagged bolt flashing for a moment every few seconds. */
static void draw_lightning(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float ph = fmodf(v->t + s->bolt_phase, 2.6f);
	int b = (int)((v->t + s->bolt_phase) / 2.6f) & 1, k;
	lv_px col = lv_canvas_color(cv, lv_rgb_make(235, 240, 255));
	if (ph > 0.35f)
		return;
	lv_draw_glow(cv, sx_of(s, v, 0.06f, s->bolt[b][0][0]), sy_of(s, v, 0.06f, s->bolt[b][0][1]), 0.5f * (float)s->w,
	             0.3f * (float)s->h, col, ph < 0.12f ? 90 : 45);
	for (k = 0; k < 8; k++) {
		float ax = sx_of(s, v, 0.06f, s->bolt[b][k][0]), ay = sy_of(s, v, 0.06f, s->bolt[b][k][1]);
		float bx = sx_of(s, v, 0.06f, s->bolt[b][k + 1][0]), by = sy_of(s, v, 0.06f, s->bolt[b][k + 1][1]);
		float w = 0.0035f * s->U * (1.0f - 0.08f * (float)k);
		float q[8] = { ax - w, ay, ax + w, ay, bx + w, by, bx - w, by };
		lv_draw_poly(cv, q, 4, col, 240);
	}
}

/* ---- props ------------------------------------------------------------------------------ */

#define PROP_DEPTH 0.8f  /* ground props stand just behind the characters (SPRITE_DEPTH 0.75) */
#define PROP_SIDE_X 0.15f /* their centre: this share of the width in from the frame's edge */
#define PROP_GROUND 0.82f

/* Sides for the ground props the shot names: the first on one side (by the seed), the next on the
 * other; more are left out.  Birds and the window take no side.  Uses its own generator so that the
 * scenery stays as it was for texts without props. */
static void place_props(lv_scene *s, uint32_t seed)
{
	int p, side = (seed >> 3) & 1 ? 1 : -1, used = 0;
	for (p = 0; p < LV_PROP_COUNT; p++) {
		s->prop_side[p] = 0;
		if (!(s->props & (1u << p)) || p == LV_PROP_BIRDS || p == LV_PROP_WINDOW || used >= 2)
			continue;
		s->prop_side[p] = used ? -side : side;
		used++;
	}
	s->bird_phase = (float)(seed % 97) * 0.37f;
}

/* The screen point of a ground prop's foot (world x, y at PROP_DEPTH) and the scale of its sizes. */
static void prop_at(const lv_scene *s, const lv_view *v, int side, float *x, float *y, float *k)
{
	float z, par, wx = (float)s->w * (side < 0 ? PROP_SIDE_X : 1.0f - PROP_SIDE_X);
	lv_scene_project(s, v, PROP_DEPTH, &z, &par);
	*x = sx_of(s, v, PROP_DEPTH, wx);
	*y = sy_of(s, v, PROP_DEPTH, PROP_GROUND * (float)s->h);
	*k = z * fminf(s->U, 1.2f * (float)s->w) / 720.0f;
}

/* The colour of a prop's material under the scene's light: lit by the sun, dimmed at night. */
static lv_rgb prop_lit(const lv_scene *s, lv_rgb c)
{
	float dark = s->pal == P_NIGHT || s->pal == P_NEON ? 0.45f : s->pal == P_STORM ? 0.25f : 0.1f;
	return lv_rgb_mix(lv_rgb_mix(c, s->sun, 0.12f), s->near, dark);
}

static void draw_snowman(lv_scene *s, lv_canvas *cv, float x, float y, float k)
{
	lv_px snow = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(246, 248, 252)));
	lv_px shade = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(196, 208, 228)));
	lv_px coal = lv_canvas_color(cv, lv_rgb_make(30, 30, 36)), carrot = lv_canvas_color(cv, lv_rgb_make(240, 120, 40));
	lv_px scarf = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(200, 40, 50)));
	lv_px stick = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(96, 64, 40)));
	float r0 = 34 * k, r1 = 25 * k, r2 = 18 * k, y0 = y - r0 * 0.9f, y1 = y0 - r0 - r1 * 0.7f, y2 = y1 - r1 - r2 * 0.7f;
	float arm_l[8] = { x - r1 * 0.8f, y1 - 2 * k, x - r1 * 2.0f, y1 - 18 * k, x - r1 * 2.0f, y1 - 15 * k,
		           x - r1 * 0.8f, y1 + 2 * k };
	float arm_r[8] = { x + r1 * 0.8f, y1 - 2 * k, x + r1 * 2.0f, y1 - 20 * k, x + r1 * 2.0f, y1 - 17 * k,
		           x + r1 * 0.8f, y1 + 2 * k };
	float nose[6] = { x, y2 - 2 * k, x + 16 * k, y2 + 1 * k, x, y2 + 3 * k };
	lv_draw_poly(cv, arm_l, 4, stick, 256);
	lv_draw_poly(cv, arm_r, 4, stick, 256);
	lv_draw_ellipse(cv, x + 3 * k, y0 + 2 * k, r0, r0 * 0.92f, shade, 256);
	lv_draw_ellipse(cv, x, y0, r0, r0 * 0.92f, snow, 256);
	lv_draw_ellipse(cv, x + 2 * k, y1 + 2 * k, r1, r1 * 0.95f, shade, 256);
	lv_draw_ellipse(cv, x, y1, r1, r1 * 0.95f, snow, 256);
	lv_draw_rrect(cv, x - r1 * 0.75f, y1 - r1 * 0.95f, x + r1 * 0.75f, y1 - r1 * 0.95f + 7 * k, 3 * k, scarf, 256);
	lv_draw_ellipse(cv, x, y2, r2, r2, snow, 256);
	lv_draw_ellipse(cv, x - 6 * k, y2 - 4 * k, 2.2f * k, 2.2f * k, coal, 256);
	lv_draw_ellipse(cv, x + 6 * k, y2 - 4 * k, 2.2f * k, 2.2f * k, coal, 256);
	lv_draw_poly(cv, nose, 3, carrot, 256);
	lv_draw_ellipse(cv, x, y1 - 6 * k, 2.2f * k, 2.2f * k, coal, 256);
	lv_draw_ellipse(cv, x, y1 + 6 * k, 2.2f * k, 2.2f * k, coal, 256);
	/* a hat */
	lv_draw_rrect(cv, x - r2 * 1.1f, y2 - r2 * 0.8f, x + r2 * 1.1f, y2 - r2 * 0.8f + 4 * k, 1.5f * k, coal, 256);
	lv_draw_rrect(cv, x - r2 * 0.7f, y2 - r2 * 0.8f - 18 * k, x + r2 * 0.7f, y2 - r2 * 0.8f + 1 * k, 1.5f * k, coal,
	              256);
}

static void draw_umbrella(lv_scene *s, lv_canvas *cv, float x, float y, float k, float t)
{
	lv_px cloth = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(214, 52, 60)));
	lv_px rib = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(150, 30, 40)));
	lv_px handle = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(60, 44, 36)));
	float R = 52 * k, top = y - 118 * k, sway = 0.04f * sinf(0.9f * t), dome[2 * 13];
	int i;
	/* the shaft and the crook, standing in the ground */
	lv_draw_rrect(cv, x - 1.6f * k, top, x + 1.6f * k, y - 6 * k, 1.0f * k, handle, 256);
	lv_draw_ellipse(cv, x + 5 * k, y - 6 * k, 5 * k, 5 * k, handle, 256);
	lv_draw_ellipse(cv, x + 5 * k, y - 8 * k, 2.6f * k, 3 * k, lv_canvas_color(cv, s->near), 200);
	/* the canopy: a dome with scalloped edge */
	for (i = 0; i <= 12; i++) {
		float a = 3.14159265f * (float)i / 12.0f + sway;
		dome[2 * i] = x - R * cosf(a);
		dome[2 * i + 1] = top + 10 * k - 0.62f * R * sinf(a);
	}
	lv_draw_poly(cv, dome, 13, cloth, 256);
	for (i = 0; i < 4; i++) {
		float cx = x - R + R * (0.25f + 0.5f * (float)i), cy = top + 10 * k;
		lv_draw_ellipse(cv, cx, cy, R * 0.25f, 4 * k, cloth, 256);
	}
	lv_draw_rrect(cv, x - 1.2f * k, top - 0.62f * R, x + 1.2f * k, top + 8 * k, 0, rib, 200);
	lv_draw_rrect(cv, x - 1.5f * k, top - 0.62f * R - 8 * k, x + 1.5f * k, top - 0.62f * R + 2 * k, 1, handle, 256);
}

static void draw_bench(lv_scene *s, lv_canvas *cv, float x, float y, float k)
{
	lv_px wood = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(150, 100, 62)));
	lv_px dark = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(60, 56, 58)));
	float w = 70 * k;
	lv_draw_rrect(cv, x - w * 0.85f, y - 30 * k, x - w * 0.75f, y, 1.5f * k, dark, 256);
	lv_draw_rrect(cv, x + w * 0.75f, y - 30 * k, x + w * 0.85f, y, 1.5f * k, dark, 256);
	lv_draw_rrect(cv, x - w, y - 34 * k, x + w, y - 26 * k, 2 * k, wood, 256);
	lv_draw_rrect(cv, x - w * 0.95f, y - 58 * k, x + w * 0.95f, y - 51 * k, 2 * k, wood, 256);
	lv_draw_rrect(cv, x - w * 0.95f, y - 47 * k, x + w * 0.95f, y - 40 * k, 2 * k, wood, 256);
	lv_draw_rrect(cv, x - w * 0.8f, y - 58 * k, x - w * 0.72f, y - 30 * k, 1.5f * k, dark, 256);
	lv_draw_rrect(cv, x + w * 0.72f, y - 58 * k, x + w * 0.8f, y - 30 * k, 1.5f * k, dark, 256);
}

static void draw_streetlamp(lv_scene *s, lv_canvas *cv, float x, float y, float k)
{
	int lit = s->pal != P_DAY && s->pal != P_AUTUMN && s->pal != P_SNOW && s->pal != P_MISTY;
	lv_px iron = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(44, 48, 56)));
	lv_px light = lv_canvas_color(cv, lv_rgb_make(255, 226, 160));
	float top = y - 190 * k;
	lv_draw_rrect(cv, x - 6 * k, y - 14 * k, x + 6 * k, y, 2 * k, iron, 256);
	lv_draw_rrect(cv, x - 2.5f * k, top, x + 2.5f * k, y - 10 * k, 1.5f * k, iron, 256);
	lv_draw_rrect(cv, x - 10 * k, top - 26 * k, x + 10 * k, top - 2 * k, 3 * k, lit ? light : iron, lit ? 240 : 256);
	lv_draw_rrect(cv, x - 13 * k, top - 31 * k, x + 13 * k, top - 25 * k, 2 * k, iron, 256);
	lv_draw_rrect(cv, x - 8 * k, top - 3 * k, x + 8 * k, top + 2 * k, 1.5f * k, iron, 256);
	if (lit) {
		lv_draw_glow(cv, x, top - 14 * k, 60 * k, 60 * k, light, 120);
		lv_draw_glow(cv, x, y, 60 * k, 10 * k, light, 70);
	}
}

static void draw_flowers(lv_scene *s, lv_canvas *cv, float x, float y, float k)
{
	static const float at[9][3] = { { -40, 22, 0 }, { -26, 34, 1 }, { -12, 26, 2 }, { 0, 40, 0 }, { 12, 28, 1 },
		                         { 24, 36, 2 },  { 38, 24, 0 },  { -4, 18, 1 },  { 30, 16, 2 } };
	static const float hue[3][3] = { { 236, 84, 120 }, { 250, 200, 70 }, { 240, 240, 250 } };
	lv_px stem = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(60, 120, 60)));
	lv_px leaf = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(70, 140, 70)));
	int i;
	lv_draw_ellipse(cv, x, y - 4 * k, 50 * k, 9 * k, leaf, 256);
	for (i = 0; i < 9; i++) {
		float fx = x + at[i][0] * k, fy = y - at[i][1] * k;
		int c = (int)at[i][2];
		lv_px petal = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(hue[c][0], hue[c][1], hue[c][2])));
		lv_draw_rrect(cv, fx - 1 * k, fy, fx + 1 * k, y - 4 * k, 0, stem, 256);
		lv_draw_ellipse(cv, fx, fy, 6 * k, 5 * k, petal, 256);
		lv_draw_ellipse(cv, fx, fy, 2 * k, 2 * k, lv_canvas_color(cv, lv_rgb_make(250, 210, 80)), 256);
	}
}

/* A few birds crossing the sky, wings beating. */
static void draw_birds(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	lv_px col = lv_canvas_color(cv, lv_rgb_mix(s->far, lv_rgb_make(20, 22, 30), 0.6f));
	float span = 1.6f * (float)s->w, k = s->U / 720.0f;
	int i;
	for (i = 0; i < 5; i++) {
		float fx = (float)i * 0.07f * (float)s->w + (i & 1) * 0.02f * (float)s->w;
		float wx = fmodf(fx + 0.03f * s->U * v->t + s->bird_phase * (float)s->w * 0.1f, span) - 0.3f * (float)s->w;
		float wy = (0.18f + 0.035f * (float)(i % 3) + 0.01f * sinf(0.7f * v->t + (float)i)) * (float)s->h;
		float x = sx_of(s, v, 0.15f, wx), y = sy_of(s, v, 0.15f, wy), b = (13.0f - (float)(i % 2) * 3.0f) * k;
		float flap = sinf(7.0f * v->t + 1.3f * (float)i + s->bird_phase), tip = y - flap * 0.6f * b;
		float l[8] = { x, y, x - b, tip, x - b * 1.05f, tip + 0.18f * b, x, y + 0.3f * b };
		float r[8] = { x, y, x + b, tip, x + b * 1.05f, tip + 0.18f * b, x, y + 0.3f * b };
		lv_draw_poly(cv, l, 4, col, 230);
		lv_draw_poly(cv, r, 4, col, 230);
	}
}

/* The window's sill, a share of the height: higher in portrait, where the subtitle band is taller. */
static float window_sill(const lv_scene *s)
{
	return s->h > s->w ? 0.7f : 0.78f;
}

/* A wall with a window in it, seen from outside: the room lit behind the glass, rain running down the
 * glass in wet weather, a sill the characters sit on.  It covers the landscape: the shot is at the
 * window. */
static void draw_window(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float W = (float)s->w, H = (float)s->h, d = 0.9f;
	float gx0 = W * (s->h > s->w ? 0.08f : 0.2f), gx1 = W - gx0, gy0 = H * 0.16f, gy1 = H * window_sill(s);
	float ax = sx_of(s, v, d, gx0), bx = sx_of(s, v, d, gx1), ay = sy_of(s, v, d, gy0), by = sy_of(s, v, d, gy1);
	float big = 2.0f * (W + H), f = 0.018f * s->U;
	lv_rgb wall_c = prop_lit(s, lv_rgb_make(168, 150, 132));
	lv_px wall = lv_canvas_color(cv, wall_c), frame = lv_canvas_color(cv, prop_lit(s, lv_rgb_make(236, 232, 222)));
	lv_px room = lv_canvas_color(cv, lv_rgb_make(70, 52, 46)), lamp = lv_canvas_color(cv, lv_rgb_make(255, 206, 140));
	lv_px glass = lv_canvas_color(cv, lv_rgb_mix(s->sky_mid, lv_rgb_make(255, 255, 255), 0.3f));
	int i;
	/* the room behind the glass, a lamp in it */
	lv_draw_rrect(cv, ax, ay, bx, by, 0, room, 256);
	lv_draw_glow(cv, ax + 0.7f * (bx - ax), ay + 0.3f * (by - ay), 0.35f * (bx - ax), 0.45f * (by - ay), lamp, 150);
	lv_draw_rrect(cv, ax, ay, bx, by, 0, glass, 40);
	if (s->weather == W_RAIN || s->weather == W_STORM)
		for (i = 0; i < 14; i++) {
			/* drops running down the glass */
			float u = fmodf((float)i * 0.618f, 1.0f), sp = 0.04f + 0.03f * fmodf((float)i * 0.37f, 1.0f);
			float x = ax + (0.04f + 0.92f * u) * (bx - ax), y = ay + fmodf(sp * v->t * H + (float)i * 0.29f * H, by - ay);
			lv_draw_rrect(cv, x - 0.0016f * s->U, ay + (y - ay) * 0.55f, x + 0.0016f * s->U, y, 0.0016f * s->U, glass,
			              70);
			lv_draw_ellipse(cv, x, y, 0.004f * s->U, 0.005f * s->U, glass, 140);
		}
	/* the wall round it, the frame and the mullions, the sill */
	lv_draw_rrect(cv, -big, -big, W + big, ay - f, 0, wall, 256);
	lv_draw_rrect(cv, -big, by + f, W + big, H + big, 0, wall, 256);
	lv_draw_rrect(cv, -big, ay - f, ax - f, by + f, 0, wall, 256);
	lv_draw_rrect(cv, bx + f, ay - f, W + big, by + f, 0, wall, 256);
	lv_draw_rrect(cv, ax - f, ay - f, bx + f, ay, 0, frame, 256);
	lv_draw_rrect(cv, ax - f, ay, ax, by, 0, frame, 256);
	lv_draw_rrect(cv, bx, ay, bx + f, by, 0, frame, 256);
	lv_draw_rrect(cv, 0.5f * (ax + bx) - 0.4f * f, ay, 0.5f * (ax + bx) + 0.4f * f, by, 0, frame, 200);
	lv_draw_rrect(cv, ax, ay + 0.42f * (by - ay) - 0.4f * f, bx, ay + 0.42f * (by - ay) + 0.4f * f, 0, frame, 200);
	lv_draw_rrect(cv, ax - 2.2f * f, by, bx + 2.2f * f, by + 1.6f * f, 0.3f * f, frame, 256);
	lv_draw_rrect(cv, ax - 2.0f * f, by + 1.6f * f, bx + 2.0f * f, by + 2.4f * f, 0, lv_canvas_color(cv, lv_rgb_scale(wall_c, 0.6f)),
	              256);
}

/* The props the shot names, in front of the landscape, behind the characters. */
static void draw_props(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	int p;
	if (s->props & (1u << LV_PROP_BIRDS))
		draw_birds(s, cv, v);
	if (s->props & (1u << LV_PROP_WINDOW)) {
		draw_window(s, cv, v);
		return;
	}
	for (p = 0; p < LV_PROP_COUNT; p++) {
		float x, y, k;
		if (!s->prop_side[p])
			continue;
		prop_at(s, v, s->prop_side[p], &x, &y, &k);
		switch (p) {
		case LV_PROP_SNOWMAN:
			draw_snowman(s, cv, x, y, k);
			break;
		case LV_PROP_UMBRELLA:
			draw_umbrella(s, cv, x, y, k, v->t);
			break;
		case LV_PROP_BENCH:
			draw_bench(s, cv, x, y, k);
			break;
		case LV_PROP_LAMP:
			draw_streetlamp(s, cv, x, y, k);
			break;
		case LV_PROP_FLOWERS:
			draw_flowers(s, cv, x, y, k);
			break;
		default:
			break;
		}
	}
}

void lv_scene_stage(const lv_scene *s, float *x0, float *x1, float *ground)
{
	int p, left = 0, right = 0;
	for (p = 0; p < LV_PROP_COUNT; p++) {
		left |= s->prop_side[p] < 0;
		right |= s->prop_side[p] > 0;
	}
	if (s->props & (1u << LV_PROP_WINDOW)) {
		/* on the sill, inside the window */
		float gx0 = (float)s->w * (s->h > s->w ? 0.08f : 0.2f);
		*x0 = gx0 + 0.03f * (float)s->w;
		*x1 = (float)s->w - *x0;
		*ground = window_sill(s) * (float)s->h;
		return;
	}
	{
		/* a prop reaches at most 70 units (prop_at's scale) either side of its centre */
		float reach = PROP_SIDE_X * (float)s->w + 70.0f * fminf(s->U, 1.2f * (float)s->w) / 720.0f + 0.02f * (float)s->w;
		*x0 = left ? reach : 0.06f * (float)s->w;
		*x1 = right ? (float)s->w - reach : 0.94f * (float)s->w;
	}
	*ground = -1.0f;
}

static int has_any(const char *lower, const char *const *words)
{
	for (; *words; words++)
		if (strstr(lower, *words))
			return 1;
	return 0;
}

float lv_scene_framing(const char *camera, const char *text)
{
	static const char *const close[] = { "close-up", "close up", "closeup", "close detail", "close shot", "macro",
		                             "extreme close", "\xe7\x89\xb9\xe5\x86\x99" /* 特写 */, "gros plan",
		                             "nahaufnahme", "primer plano", NULL };
	static const char *const wide[] = { "wide", "establishing", "pull out", "pulls back", "pull back", "drone",
		                            "aerial", "small in the frame", "small against", "long shot",
		                            "\xe8\xbf\x9c\xe6\x99\xaf" /* 远景 */, "\xe5\x85\xa8\xe6\x99\xaf" /* 全景 */,
		                            "\xe6\x8b\x89\xe8\xbf\x9c" /* 拉远 */, "plan large", "totale", "plano general",
		                            NULL };
	const char *src[2] = { camera, text };
	int i;
	for (i = 0; i < 2; i++) {
		char buf[512];
		size_t k;
		if (!src[i])
			continue;
		for (k = 0; k < sizeof(buf) - 1 && src[i][k]; k++)
			buf[k] = (char)(src[i][k] >= 'A' && src[i][k] <= 'Z' ? src[i][k] - 'A' + 'a' : src[i][k]);
		buf[k] = '\0';
		if (has_any(buf, close))
			return LV_FRAMING_CLOSE;
		if (has_any(buf, wide))
			return LV_FRAMING_WIDE;
	}
	return LV_FRAMING_MEDIUM;
}

/* cover[i]: the first screen row from which layer i covers the whole width in view v. */
static void layer_cover(const lv_scene *s, const lv_view *v, int *cover)
{
	int i;
	for (i = 0; i < s->n_layers; i++) {
		float y = sy_of(s, v, s->layers[i].depth, s->layers[i].low) + 2.0f;
		cover[i] = y > (float)s->h ? s->h : y < 0 ? 0 : (int)y;
	}
}

void lv_scene_draw_back(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	int i, cover[MAX_LAYERS + 1], cover_after[MAX_LAYERS + 1], sky_end = s->h;
	layer_cover(s, v, cover);
	for (i = s->n_layers - 1; i >= 0; i--) {
		cover_after[i] = i == s->n_layers - 1 ? s->h : cover_after[i + 1] < cover[i + 1] ? cover_after[i + 1]
		                                                                                 : cover[i + 1];
		if (cover[i] < sky_end)
			sky_end = cover[i];
	}
	draw_sky_cached(s, cv, v, sky_end);
	if (s->kind == K_STAGE)
		draw_particles(s, cv, v, s->back, s->n_back, PART_BOKEH);
	draw_clouds(s, cv, v);
	if (s->weather == W_STORM)
		draw_lightning(s, cv, v);
	for (i = 0; i < s->n_layers; i++) {
		const layer *L = &s->layers[i];
		if (i == s->n_layers / 2 && s->n_beams)
			draw_beams(s, cv, v, cover[i] < cover_after[i] ? cover[i] : cover_after[i]);
		if (i == s->n_layers / 2 && s->haze_alpha) {
			float y = sy_of(s, v, 0.4f, s->layers[i - 1 < 0 ? 0 : i - 1].base + 0.02f * (float)s->h);
			lv_draw_glow(cv, (float)s->w * 0.5f, y, (float)s->w * 0.9f, 0.09f * (float)s->h,
			             lv_canvas_color(cv, s->horizon), s->haze_alpha);
		}
		draw_layer(s, cv, v, L, cover_after[i]);
		if (s->lighthouse && i == s->lamp_layer)
			draw_lamp(s, cv, v);
		if (s->boat && i == s->boat_layer) {
			float span = 1.6f * (float)s->w, wx = fmodf(s->boat_x + s->boat_vx * v->t + 0.3f * (float)s->w, span);
			if (wx < 0)
				wx += span;
			draw_boat(s, cv, v, 0.45f, wx - 0.3f * (float)s->w, 0.665f * (float)s->h, s->boat_len, 0.0f);
		}
		if (s->harbour && i == s->pier_layer)
			draw_pier(s, cv, v);
		if (s->kind == K_SEA && i == 1 && !s->has_sun) {
			/* no sun or moon behind the clouds: no path of light on the water */
		} else if (s->kind == K_SEA && i == 1 && !s->moon) {
			/* the sun's path on the water */
			float x = sx_of(s, v, 0.2f, s->sun_x), y = sy_of(s, v, 0.2f, 0.69f * (float)s->h);
			lv_draw_glow(cv, x, y, 0.05f * s->U, 0.1f * (float)s->h, lv_canvas_color(cv, s->sun), 120);
		} else if (s->kind == K_SEA && i == 1) {
			float x = sx_of(s, v, 0.2f, s->sun_x), y = sy_of(s, v, 0.2f, 0.69f * (float)s->h);
			lv_draw_glow(cv, x, y, 0.03f * s->U, 0.09f * (float)s->h, lv_canvas_color(cv, s->sun), 70);
		}
	}
	if (s->n_cars)
		draw_cars(s, cv, v);
	if (s->props)
		draw_props(s, cv, v);
	if (s->kind == K_STAGE) {
		/* a pool of light on the floor */
		float y = sy_of(s, v, 0.9f, 0.86f * (float)s->h);
		lv_draw_glow(cv, sx_of(s, v, 0.9f, s->sun_x), y, 0.45f * s->U, 0.07f * (float)s->h,
		             lv_canvas_color(cv, s->sun), 70);
	}
}

void lv_scene_draw_front(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	draw_particles(s, cv, v, s->parts, s->n_parts, s->part_mode);
}
