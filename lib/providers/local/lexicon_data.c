/*
 * The built-in script writer's word lists.  Visual phrases are noun phrases that read after
 * "a wide view of the city, ..." or "Close detail: ..."; English narration nouns are plural or
 * mass nouns so that templates agree with them.
 */
#include "providers/local/lexicon.h"

#include <string.h>

#define D(ev, zv, en, zn) { { ev, zv }, { en, zn } }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- places and things ---------------------------------------------------------------------------- */

static const lv_lex_detail city[] = {
	D("glass towers catching the light", "映着光的玻璃幕墙高楼", "the towers", "高楼"),
	D("streams of traffic flowing along the avenues", "大道上川流不息的车流", "the cars", "车流"),
	D("crowds crossing at a busy intersection", "繁忙路口穿行的人群", "the crowds", "人群"),
	D("office windows lighting up one by one", "一扇扇依次亮起的窗户", "the windows", "窗户"),
	D("a subway train sliding into a station", "缓缓驶入站台的地铁", "the trains", "地铁"),
	D("steam rising from the street vents", "从街边通风口升起的水汽", "the rising steam", "水汽"),
};
static const lv_lex_detail street[] = {
	D("shop shutters rolling up", "缓缓拉起卷帘门的小店", "the shop shutters", "卷帘门"),
	D("puddles reflecting the shop signs", "倒映着招牌的水洼", "the puddles", "水洼"),
	D("a cyclist weaving through the lane", "在巷子里穿行的骑车人", "the cyclists", "骑车人"),
	D("laundry hanging between the windows", "窗户之间晾晒的衣物", "the hanging laundry", "晾晒的衣物"),
	D("a street lamp flickering on", "忽明忽暗的路灯", "the street lamps", "路灯"),
};
static const lv_lex_detail market[] = {
	D("stalls piled high with fresh fruit", "堆满新鲜水果的摊位", "the fruit stalls", "水果摊"),
	D("vendors calling out their prices", "吆喝着招揽生意的摊主", "the vendors", "摊主"),
	D("steam rising from a food stall", "小吃摊上升腾的热气", "the food stalls", "小吃摊"),
	D("hands trading coins and paper bags", "交换零钱和纸袋的双手", "the busy hands", "忙碌的双手"),
	D("strings of lanterns swaying overhead", "头顶随风摇晃的一串串灯笼", "the lanterns", "灯笼"),
};
static const lv_lex_detail sea[] = {
	D("waves rolling onto the sand", "涌上沙滩的海浪", "the waves", "海浪"),
	D("seabirds gliding low over the water", "贴着水面滑翔的海鸟", "the seabirds", "海鸟"),
	D("white foam lacing the shoreline", "勾勒海岸线的白色浪花", "the foam", "浪花"),
	D("light glittering on the water", "水面上闪烁的粼粼波光", "the glittering water", "波光"),
	D("a lone sail on the horizon", "地平线上的一叶孤帆", "the distant sails", "孤帆"),
};
static const lv_lex_detail harbour[] = {
	D("fishing boats rocking at their moorings", "在泊位上轻轻摇晃的渔船", "the boats", "渔船"),
	D("nets piled on the quay", "码头上堆放的渔网", "the nets", "渔网"),
	D("gulls circling the masts", "绕着桅杆盘旋的海鸥", "the gulls", "海鸥"),
	D("ropes straining against the bollards", "绷紧在缆桩上的缆绳", "the ropes", "缆绳"),
	D("cranes silhouetted against the sky", "天空映衬下的吊臂剪影", "the cranes", "吊臂"),
};
static const lv_lex_detail forest[] = {
	D("sunbeams slanting between the trunks", "从树干间斜射下来的光束", "the sunbeams", "光束"),
	D("ferns unfurling on the forest floor", "林地上舒展的蕨类", "the ferns", "蕨类"),
	D("moss-covered roots", "长满青苔的树根", "the mossy roots", "青苔"),
	D("leaves trembling high in the canopy", "树冠中轻颤的叶子", "the leaves", "树叶"),
	D("a stream winding through the undergrowth", "灌木丛中蜿蜒的溪流", "the stream", "溪流"),
};
static const lv_lex_detail mountain[] = {
	D("clouds spilling over a ridge", "漫过山脊的云海", "the clouds", "云海"),
	D("a trail winding up the slope", "蜿蜒上山的小径", "the trail", "小径"),
	D("sunlight sweeping across the peaks", "扫过峰顶的阳光", "the peaks", "山峰"),
	D("an eagle circling above the valley", "在山谷上空盘旋的鹰", "the eagles", "鹰"),
	D("rock faces streaked with snow", "夹着积雪的岩壁", "the rock faces", "岩壁"),
};
static const lv_lex_detail desert[] = {
	D("wind sculpting the dunes", "被风雕刻的沙丘", "the dunes", "沙丘"),
	D("heat shimmering above the sand", "沙面上蒸腾的热浪", "the heat haze", "热浪"),
	D("a line of footprints crossing a ridge", "越过沙脊的一行脚印", "the footprints", "脚印"),
	D("a lone cactus casting a long shadow", "投下长影的孤独仙人掌", "the cacti", "仙人掌"),
	D("ripples drawn in the sand", "沙地上的波纹", "the sand ripples", "沙纹"),
};
static const lv_lex_detail river[] = {
	D("the current curling around stones", "绕过石头打着旋的水流", "the current", "水流"),
	D("reeds bending at the water's edge", "水边低垂的芦苇", "the reeds", "芦苇"),
	D("a wooden boat drifting downstream", "顺流而下的木船", "the little boats", "木船"),
	D("a stone bridge mirrored in the water", "倒映在水中的石桥", "the old bridges", "石桥"),
	D("mist lifting off the surface", "水面上升起的薄雾", "the mist", "薄雾"),
};
static const lv_lex_detail lake[] = {
	D("ripples spreading across still water", "在平静水面上扩散的涟漪", "the ripples", "涟漪"),
	D("the hills mirrored in the lake", "倒映在湖中的山影", "the mirrored hills", "山影"),
	D("a heron standing in the shallows", "浅水中伫立的苍鹭", "the herons", "苍鹭"),
	D("a wooden jetty reaching into the lake", "伸入湖中的木栈桥", "the jetty", "栈桥"),
	D("lily pads floating on the surface", "漂浮在水面的睡莲叶", "the lily pads", "睡莲"),
};
static const lv_lex_detail village[] = {
	D("smoke curling from a chimney", "烟囱里袅袅升起的炊烟", "the chimney smoke", "炊烟"),
	D("wheat swaying in long rows", "成片摇曳的麦浪", "the wheat", "麦浪"),
	D("a dirt road between the fields", "田间的土路", "the dirt roads", "土路"),
	D("chickens pecking in a yard", "院子里啄食的鸡群", "the chickens", "鸡群"),
	D("a scarecrow standing in the wind", "风中伫立的稻草人", "the scarecrows", "稻草人"),
};
static const lv_lex_detail night_sky[] = {
	D("stars appearing one by one", "一颗颗显现的星星", "the stars", "星星"),
	D("the moon rising over the horizon", "从地平线升起的月亮", "the moonlight", "月亮"),
	D("the Milky Way arching overhead", "横跨天空的银河", "the Milky Way", "银河"),
	D("a shooting star streaking past", "划过夜空的流星", "the shooting stars", "流星"),
	D("treetops silhouetted against the sky", "夜空下树梢的剪影", "the treetops", "树梢"),
};
static const lv_lex_detail space[] = {
	D("a planet turning slowly in the dark", "在黑暗中缓缓转动的行星", "the planets", "行星"),
	D("nebula clouds glowing violet", "发出紫光的星云", "the nebulae", "星云"),
	D("a space station drifting in orbit", "在轨道上漂浮的空间站", "the space station", "空间站"),
	D("starlight from distant galaxies", "来自遥远星系的星光", "the distant stars", "星光"),
	D("an asteroid tumbling past", "翻滚着掠过的小行星", "the asteroids", "小行星"),
};
static const lv_lex_detail garden[] = {
	D("petals drifting to the ground", "飘落在地上的花瓣", "the petals", "花瓣"),
	D("bees moving between the blossoms", "在花丛间穿梭的蜜蜂", "the bees", "蜜蜂"),
	D("a stone path winding past the flower beds", "绕过花圃的石板小径", "the stone paths", "石板路"),
	D("dew beading on the grass", "草叶上的露珠", "the dewdrops", "露珠"),
	D("an empty bench under a tree", "树下空着的长椅", "the empty benches", "长椅"),
};
static const lv_lex_detail blossom[] = {
	D("branches heavy with pink blossoms", "缀满粉色花朵的枝头", "the branches", "枝头"),
	D("petals swirling in the breeze", "随风飞舞的花瓣", "the falling petals", "花瓣雨"),
	D("a carpet of petals on the path", "铺满小路的花瓣", "the petal carpet", "花瓣地毯"),
	D("blossoms against a pale sky", "淡色天空映衬下的花朵", "the blossoms", "花朵"),
};
static const lv_lex_detail kitchen[] = {
	D("a pot steaming on the stove", "灶上冒着热气的锅", "the pots", "锅"),
	D("flour dusted across the counter", "撒在台面上的面粉", "the flour", "面粉"),
	D("a knife flashing over a cutting board", "在砧板上飞快起落的刀", "the knives", "刀工"),
	D("oil sizzling in a hot pan", "锅里滋滋作响的热油", "the sizzling pans", "热油"),
	D("plates lined up under warm lamps", "暖灯下排开的餐盘", "the plates", "餐盘"),
};
static const lv_lex_detail cafe[] = {
	D("steam rising from a cup", "杯中升起的热气", "the cups", "杯子"),
	D("milk swirling into coffee", "倒入咖啡时旋转的牛奶", "the coffee", "咖啡"),
	D("pages of an open book on a table", "桌上摊开的书页", "the open books", "书页"),
	D("sunlight on a worn wooden table", "旧木桌上的阳光", "the wooden tables", "木桌"),
	D("a spoon resting on a saucer", "搁在碟子上的小勺", "the spoons", "小勺"),
};
static const lv_lex_detail home[] = {
	D("curtains stirring at an open window", "敞开的窗边轻轻飘动的窗帘", "the curtains", "窗帘"),
	D("a clock ticking on the wall", "墙上滴答作响的时钟", "the clocks", "时钟"),
	D("old photographs on a shelf", "架子上的老照片", "the old photographs", "老照片"),
	D("a lamp glowing in the corner", "角落里亮着的台灯", "the lamps", "台灯"),
	D("a kettle starting to whistle", "开始鸣响的水壶", "the kettles", "水壶"),
};
static const lv_lex_detail school[] = {
	D("chalk dust on the blackboard", "黑板上的粉笔灰", "the blackboards", "黑板"),
	D("rows of wooden desks", "一排排课桌", "the desks", "课桌"),
	D("a bell ringing down the corridor", "走廊里响起的铃声", "the bells", "铃声"),
	D("children running across the playground", "操场上奔跑的孩子们", "the playgrounds", "操场"),
	D("notebooks full of scribbles", "写满涂鸦的笔记本", "the notebooks", "笔记本"),
};
static const lv_lex_detail station[] = {
	D("a departures board flickering", "不停翻动的时刻表", "the departure boards", "时刻表"),
	D("a train pulling in", "缓缓进站的列车", "the arriving trains", "列车"),
	D("travellers pulling suitcases", "拖着行李箱的旅客", "the travellers", "旅客"),
	D("a great clock above the platform", "站台上方的大钟", "the platform clocks", "大钟"),
	D("rails gleaming into the distance", "延伸到远方、闪着光的铁轨", "the rails", "铁轨"),
};
static const lv_lex_detail sky[] = {
	D("clouds racing overhead", "头顶飞驰的云朵", "the clouds", "云朵"),
	D("a flock of birds turning together", "一起转向的鸟群", "the flocks", "鸟群"),
	D("contrails crossing high above", "高空中交错的飞机尾迹", "the contrails", "飞机尾迹"),
	D("colour spreading along the horizon", "沿地平线铺开的色彩", "the colours", "色彩"),
	D("a kite climbing on the wind", "乘风而上的风筝", "the kites", "风筝"),
};
static const lv_lex_detail island[] = {
	D("palm trees leaning over the water", "斜向海面的棕榈树", "the palms", "棕榈树"),
	D("turquoise shallows", "碧绿的浅滩", "the shallows", "浅滩"),
	D("a hammock swaying between two trees", "两棵树间摇晃的吊床", "the hammocks", "吊床"),
	D("crabs scuttling across the sand", "横穿沙滩的小螃蟹", "the crabs", "螃蟹"),
	D("a reef glimmering under the surface", "水下隐约可见的珊瑚礁", "the reefs", "珊瑚礁"),
};
static const lv_lex_detail castle[] = {
	D("banners snapping on the towers", "塔楼上猎猎作响的旗帜", "the banners", "旗帜"),
	D("torchlight on stone walls", "石墙上跳动的火光", "the torches", "火把"),
	D("a drawbridge lowering", "缓缓放下的吊桥", "the drawbridge", "吊桥"),
	D("ivy climbing the ramparts", "爬满城墙的常春藤", "the ivy", "常春藤"),
	D("a great hall with long tables", "摆着长桌的大厅", "the great halls", "大厅"),
};
static const lv_lex_detail old_town[] = {
	D("tiled roofs with upturned eaves", "飞檐翘角的瓦顶", "the tiled roofs", "瓦顶"),
	D("incense smoke curling in a courtyard", "庭院里缭绕的香烟", "the incense", "香火"),
	D("worn stone steps", "被磨得发亮的石阶", "the stone steps", "石阶"),
	D("red lanterns along a canal", "沿河挂着的红灯笼", "the red lanterns", "红灯笼"),
	D("a bronze bell in a tower", "钟楼里的铜钟", "the bronze bells", "铜钟"),
};
static const lv_lex_detail ice[] = {
	D("ice cracking along a fault", "沿着裂缝断开的冰层", "the cracking ice", "冰层"),
	D("wind lifting snow off a ridge", "被风从山脊卷起的雪", "the blowing snow", "飞雪"),
	D("blue light deep inside a glacier", "冰川深处幽蓝的光", "the blue ice", "蓝冰"),
	D("tracks crossing the snowfield", "穿过雪原的足迹", "the tracks", "足迹"),
	D("the aurora rippling overhead", "头顶舞动的极光", "the aurora", "极光"),
};
static const lv_lex_detail underwater[] = {
	D("shafts of light falling from the surface", "从水面射下的光柱", "the light shafts", "光柱"),
	D("a school of fish turning as one", "整齐转向的鱼群", "the fish", "鱼群"),
	D("coral swaying in the current", "随水流摇摆的珊瑚", "the coral", "珊瑚"),
	D("bubbles rising toward the light", "向着光上升的气泡", "the bubbles", "气泡"),
	D("a sea turtle gliding past", "缓缓游过的海龟", "the turtles", "海龟"),
};
static const lv_lex_detail festival[] = {
	D("fireworks blooming overhead", "在头顶绽放的烟花", "the fireworks", "烟花"),
	D("a dragon dance weaving through the crowd", "在人群中穿行的舞龙", "the dancers", "舞龙队"),
	D("paper lanterns glowing in rows", "成排发光的纸灯笼", "the paper lanterns", "纸灯笼"),
	D("confetti drifting through the air", "漫天飞舞的彩纸", "the confetti", "彩纸"),
	D("drummers keeping the beat", "敲着鼓点的鼓手", "the drums", "锣鼓"),
};
static const lv_lex_detail road[] = {
	D("lane markings flashing past", "飞速掠过的车道线", "the lane markings", "车道线"),
	D("a car cresting a hill", "驶上坡顶的汽车", "the cars on the road", "汽车"),
	D("road signs pointing somewhere far away", "指向远方的路牌", "the road signs", "路牌"),
	D("telegraph poles ticking by", "一根根掠过的电线杆", "the telegraph poles", "电线杆"),
	D("the road vanishing into the distance", "消失在远方的公路", "the horizon", "远方"),
};

static const lv_lex_entry entries_[] = {
	{ LV_LEX_PLACE, 0,
	  "city|urban|downtown|skyline|metropolis|skyscraper|ville|ciudad|stadt|tokyo|new york|shanghai|beijing|paris|london|hong kong",
	  "城市|都市|市区|城区|摩天大楼|天际线|高楼|上海|北京|东京|纽约|香港|巴黎|伦敦|深圳|广州",
	  { "the city", "城市" }, -1, city, N(city) },
	{ LV_LEX_PLACE, 0, "street|alley|alleyway|avenue|lane|sidewalk|rue|calle|stra\xc3\x9f" "e", "街道|街头|小巷|巷子|胡同|老街|马路|街",
	  { "the streets", "街道" }, -1, street, N(street) },
	{ LV_LEX_PLACE, 0, "market|bazaar|marketplace|night market|stall", "集市|市场|菜市场|夜市|市集|摊位|早市",
	  { "the market", "集市" }, LV_MOOD_BRIGHT, market, N(market) },
	{ LV_LEX_PLACE, 0, "sea|ocean|seaside|beach|shore|coast|wave|lighthouse|sail|sailing|sailboat|mer|plage|phare|mar|playa|faro|meer|leuchtturm",
	  "大海|海边|海洋|海滩|海岸|沙滩|海浪|海面|灯塔|海", { "the sea", "大海" }, -1, sea, N(sea) },
	{ LV_LEX_PLACE, 0, "harbor|harbour|port|pier|dock|quay|wharf|fishing village|quai|puerto|muelle|hafen", "港口|码头|渔港|港湾|渔村",
	  { "the harbour", "港口" }, -1, harbour, N(harbour) },
	{ LV_LEX_PLACE, 0, "forest|woods|woodland|jungle|rainforest|for\xc3\xaat|bois|bosque|selva|wald", "森林|树林|丛林|雨林|林间|密林|竹林",
	  { "the forest", "森林" }, LV_MOOD_CALM, forest, N(forest) },
	{ LV_LEX_PLACE, 0, "mountain|peak|summit|cliff|alps|valley|volcano|montagne|monta\xc3\xb1" "a|gebirge|berg|berge", "高山|山峰|山顶|群山|雪山|山谷|悬崖|峡谷|火山|山",
	  { "the mountains", "群山" }, LV_MOOD_EPIC, mountain, N(mountain) },
	{ LV_LEX_PLACE, 0, "desert|dune|sahara|oasis|d\xc3\xa9sert|desierto|w\xc3\xbcste", "沙漠|荒漠|沙丘|戈壁|绿洲", { "the desert", "沙漠" },
	  LV_MOOD_EPIC, desert, N(desert) },
	{ LV_LEX_PLACE, 0, "river|stream|creek|waterfall|canal|rivi\xc3\xa8re|fleuve|r\xc3\xado|fluss", "河流|河边|河畔|小河|溪流|小溪|瀑布|运河|江边|长江|黄河|河|江|溪",
	  { "the river", "河流" }, -1, river, N(river) },
	{ LV_LEX_PLACE, 0, "lake|pond|lac|lago", "湖泊|湖面|湖边|湖畔|池塘|湖", { "the lake", "湖面" }, LV_MOOD_CALM, lake,
	  N(lake) },
	{ LV_LEX_PLACE, 0, "village|countryside|farm|farmland|field|meadow|rural|prairie|grassland|campagne|campo|pueblo|dorf|wiese",
	  "村庄|乡村|农村|田野|田间|麦田|稻田|农田|草原|草地|小镇|乡下|村子", { "the countryside", "乡村" },
	  LV_MOOD_CALM, village, N(village) },
	{ LV_LEX_PLACE, 0, "star|starry sky|moon|moonlight|milky way|night sky", "星空|星星|月亮|月光|银河|繁星|夜空",
	  { "the night sky", "星空" }, LV_MOOD_CALM, night_sky, N(night_sky) },
	{ LV_LEX_PLACE, 0, "space|outer space|galaxy|universe|planet|cosmos|nebula|spaceship|space station|mars",
	  "太空|宇宙|星系|星球|外太空|飞船|空间站|星际|火星|月球", { "space", "宇宙" }, LV_MOOD_EPIC, space, N(space) },
	{ LV_LEX_PLACE, 0, "garden|park|flower|courtyard|jardin|parc|jard\xc3\xadn|parque|garten", "花园|公园|庭院|花丛|园林|花海|鲜花|花朵",
	  { "the garden", "花园" }, LV_MOOD_CALM, garden, N(garden) },
	{ LV_LEX_THING, 0, "cherry blossom|sakura|blossom", "樱花|桃花|梨花|花瓣", { "the blossoms", "樱花" },
	  LV_MOOD_CALM, blossom, N(blossom) },
	{ LV_LEX_PLACE, 0, "kitchen|restaurant|bakery|cooking", "厨房|餐厅|饭馆|面包店|做饭|烹饪",
	  { "the kitchen", "厨房" }, LV_MOOD_BRIGHT, kitchen, N(kitchen) },
	{ LV_LEX_PLACE, 0, "cafe|coffee shop|teahouse|tea house|coffee|tea", "咖啡馆|咖啡店|茶馆|茶室|咖啡|喝茶|茶",
	  { "the café", "咖啡馆" }, LV_MOOD_CALM, cafe, N(cafe) },
	{ LV_LEX_PLACE, 0, "room|bedroom|living room|home|house|apartment|attic|cabin", "房间|卧室|客厅|家里|屋子|小屋|阁楼|家中",
	  { "the house", "屋子" }, LV_MOOD_CALM, home, N(home) },
	{ LV_LEX_PLACE, 0, "school|classroom|campus|university|playground", "学校|教室|校园|大学|操场",
	  { "the school", "校园" }, LV_MOOD_BRIGHT, school, N(school) },
	{ LV_LEX_PLACE, 0, "station|railway|train|subway|metro|airport", "火车站|地铁站|车站|火车|列车|机场|站台|高铁",
	  { "the station", "车站" }, -1, station, N(station) },
	{ LV_LEX_PLACE, 0, "sky|cloudscape|horizon", "天空|云端|蓝天|天际|地平线", { "the sky", "天空" }, -1, sky, N(sky) },
	{ LV_LEX_PLACE, 0, "island|tropical|lagoon", "海岛|小岛|岛屿|岛", { "the island", "海岛" }, LV_MOOD_BRIGHT,
	  island, N(island) },
	{ LV_LEX_PLACE, 0, "castle|palace|fortress|kingdom", "城堡|宫殿|古堡|王宫|王国", { "the castle", "城堡" },
	  LV_MOOD_EPIC, castle, N(castle) },
	{ LV_LEX_PLACE, 0, "temple|shrine|pagoda|old town|ancient town", "古镇|寺庙|古寺|寺|古城|庙宇|古村|故宫|长城",
	  { "the old town", "古镇" }, LV_MOOD_CALM, old_town, N(old_town) },
	{ LV_LEX_PLACE, 0, "arctic|antarctic|glacier|iceberg|tundra|polar|snowfield", "北极|南极|冰川|冰山|冰原|雪原",
	  { "the ice fields", "冰原" }, LV_MOOD_EPIC, ice, N(ice) },
	{ LV_LEX_PLACE, 0, "underwater|coral|reef|deep sea|seabed", "海底|水下|珊瑚|深海", { "the deep sea", "海底" },
	  LV_MOOD_CALM, underwater, N(underwater) },
	{ LV_LEX_PLACE, 0, "festival|carnival|parade|firework|new year|celebration|lantern festival",
	  "节日|庆典|烟花|烟火|春节|新年|游行|灯会|元宵|中秋", { "the festival", "节日" }, LV_MOOD_BRIGHT, festival,
	  N(festival) },
	{ LV_LEX_PLACE, 0, "road|highway|road trip|journey", "公路|高速公路|旅途|旅程|自驾", { "the open road", "公路" },
	  -1, road, N(road) },

	/* time of day */
	{ LV_LEX_TIME, LV_TIME_DAWN, "dawn|sunrise|daybreak|first light|early morning|morning mist|aube|aurore|amanecer|madrugada|morgengrauen|sonnenaufgang",
	  "清晨|黎明|日出|拂晓|破晓|早晨|晨光|天亮|晨曦|一大早", { "dawn", "清晨" }, LV_MOOD_CALM, 0, 0 },
	{ LV_LEX_TIME, LV_TIME_MORNING, "morning|matin|ma\xc3\xb1" "ana|vormittag", "早上|上午|早晨时分", { "morning", "上午" }, -1, 0, 0 },
	{ LV_LEX_TIME, LV_TIME_NOON, "noon|midday|midi|mediod\xc3\xad" "a|mittag", "中午|正午|午时", { "noon", "正午" }, -1, 0, 0 },
	{ LV_LEX_TIME, LV_TIME_AFTERNOON, "afternoon|apr\xc3\xa8s-midi|tarde|nachmittag", "下午|午后", { "afternoon", "午后" }, -1, 0, 0 },
	{ LV_LEX_TIME, LV_TIME_DUSK, "dusk|sunset|twilight|evening|golden hour|sundown|soir|soir\xc3\xa9" "e|cr\xc3\xa9puscule|atardecer|anochecer|abend|d\xc3\xa4mmerung|sonnenuntergang|untergeht", "黄昏|傍晚|日落|夕阳|晚霞|落日|薄暮",
	  { "dusk", "黄昏" }, -1, 0, 0 },
	{ LV_LEX_TIME, LV_TIME_NIGHT, "night|nighttime|midnight|neon|nuit|noche|nacht", "夜晚|夜里|晚上|深夜|午夜|夜色|夜景|夜间|霓虹|夜",
	  { "night", "夜晚" }, -1, 0, 0 },

	/* weather */
	{ LV_LEX_WEATHER, LV_WEATHER_RAIN, "rain|rainy|raining|drizzle|rainfall|downpour|raindrop|pluie|lluvia|regen",
	  "下雨|雨天|细雨|小雨|大雨|雨夜|雨中|雨滴|雨水|雨", { "the rain", "雨" }, LV_MOOD_MELANCHOLIC, 0, 0 },
	{ LV_LEX_WEATHER, LV_WEATHER_STORM, "storm|stormy|thunder|thunderstorm|lightning|typhoon|hurricane|tornado|orage|temp\xc3\xaa" "te|tormenta|sturm|gewitter",
	  "暴风雨|风暴|雷雨|雷电|闪电|台风|暴雨|雷鸣|龙卷风", { "the storm", "风暴" }, LV_MOOD_TENSE, 0, 0 },
	{ LV_LEX_WEATHER, LV_WEATHER_SNOW, "snow|snowy|snowing|snowfall|blizzard|snowflake|snowman|snowmen|neige|nieve|schnee",
	  "下雪|大雪|雪花|飘雪|雪景|雪地|雪", { "the snow", "雪" }, LV_MOOD_CALM, 0, 0 },
	{ LV_LEX_WEATHER, LV_WEATHER_FOG, "fog|foggy|mist|misty|haze|hazy|brouillard|brume|niebla|nebel", "大雾|薄雾|雾气|晨雾|烟雨|雾",
	  { "the fog", "雾" }, LV_MOOD_MELANCHOLIC, 0, 0 },
	{ LV_LEX_WEATHER, LV_WEATHER_WIND, "wind|windy|breeze|gale", "大风|狂风|微风|风吹|清风|秋风|寒风",
	  { "the wind", "风" }, -1, 0, 0 },
	{ LV_LEX_WEATHER, LV_WEATHER_SUNNY, "sunny|sunshine|sunlit|clear sky|blue sky", "晴天|晴朗|阳光明媚|艳阳|阳光|晴",
	  { "the sunshine", "阳光" }, LV_MOOD_BRIGHT, 0, 0 },
	{ LV_LEX_WEATHER, LV_WEATHER_CLOUDY, "cloudy|overcast|cloud", "多云|阴天|乌云|云层|阴沉", { "the clouds", "云" },
	  -1, 0, 0 },

	/* seasons */
	{ LV_LEX_SEASON, LV_SEASON_SPRING, "spring|springtime", "春天|春季|春日|初春|早春|春风|春雨",
	  { "spring", "春天" }, LV_MOOD_BRIGHT, 0, 0 },
	{ LV_LEX_SEASON, LV_SEASON_SUMMER, "summer|summertime", "夏天|夏日|夏季|盛夏|夏夜", { "summer", "夏天" }, -1, 0,
	  0 },
	{ LV_LEX_SEASON, LV_SEASON_AUTUMN, "autumn|fall foliage|autumnal", "秋天|秋日|秋季|深秋|金秋|秋叶|落叶",
	  { "autumn", "秋天" }, LV_MOOD_MELANCHOLIC, 0, 0 },
	{ LV_LEX_SEASON, LV_SEASON_WINTER, "winter|wintry|wintertime", "冬天|冬日|冬季|寒冬|隆冬", { "winter", "冬天" },
	  LV_MOOD_CALM, 0, 0 },

	/* techniques */
	{ LV_LEX_TECH, LV_TECH_TIMELAPSE, "time-lapse|timelapse|time lapse|hyperlapse", "延时摄影|延时|缩时|间隔拍摄",
	  { "time-lapse", "延时" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_SLOWMO, "slow motion|slow-motion|slow-mo|slowmo", "慢动作|慢镜头|升格", { "slow motion", "慢镜头" },
	  -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_AERIAL, "aerial|drone|bird's-eye|birds-eye|from above", "航拍|鸟瞰|无人机|俯瞰",
	  { "aerial", "航拍" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_MACRO, "macro|close-up|closeup", "微距|特写", { "macro", "微距" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_DOCUMENTARY, "documentary|vlog", "纪录片|纪实|记录", { "documentary", "纪录片" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_ANIME, "anime|animated|animation|cartoon|ghibli", "动画|动漫|卡通|二次元",
	  { "animation", "动画" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_3D, "3d|pixar|cgi|claymation", "三维|皮克斯|黏土", { "3D", "三维" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_BW, "black and white|black-and-white|monochrome|noir", "黑白", { "black and white", "黑白" },
	  -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_WATERCOLOR, "watercolor|watercolour|painterly|oil painting", "水彩|油画",
	  { "watercolour", "水彩" }, -1, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_INK, "ink wash|ink painting|chinese painting", "水墨|国画|山水画", { "ink wash", "水墨" },
	  LV_MOOD_CALM, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_CYBERPUNK, "cyberpunk|sci-fi|futuristic|neon-lit", "赛博朋克|科幻|未来感|未来城市",
	  { "cyberpunk", "赛博朋克" }, LV_MOOD_TENSE, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_VINTAGE, "vintage|retro|film grain|8mm|super 8|nostalgic", "复古|胶片|怀旧|老电影",
	  { "vintage", "复古" }, LV_MOOD_MELANCHOLIC, 0, 0 },
	{ LV_LEX_TECH, LV_TECH_CINEMATIC, "cinematic|film-like|epic shot", "电影感|电影级|大片", { "cinematic", "电影感" },
	  -1, 0, 0 },

	/* moods (explicit words weigh more than the moods places and weather suggest) */
	{ LV_LEX_MOOD, LV_MOOD_CALM, "calm|peaceful|quiet|serene|tranquil|gentle|relaxing|cozy|cosy|slow|healing",
	  "宁静|安静|平静|静谧|悠闲|治愈|温柔|恬静|惬意|安详|温馨", { "calm", "宁静" }, LV_MOOD_CALM, 0, 0 },
	{ LV_LEX_MOOD, LV_MOOD_BRIGHT, "happy|joyful|cheerful|festive|playful|fun|lively|bustling|vibrant|busy",
	  "快乐|欢乐|开心|热闹|喜悦|欢快|活泼|繁忙|忙碌|生机|繁华|喧闹", { "bright", "欢快" }, LV_MOOD_BRIGHT, 0, 0 },
	{ LV_LEX_MOOD, LV_MOOD_TENSE,
	  "tense|danger|dangerous|chase|escape|horror|thriller|suspense|dark|mystery|mysterious|scary|race|lost",
	  "紧张|危险|追逐|逃跑|恐怖|惊险|悬疑|黑暗|神秘|惊悚|逃离|追赶|迷路|迷失", { "tense", "紧张" }, LV_MOOD_TENSE, 0, 0 },
	{ LV_LEX_MOOD, LV_MOOD_MELANCHOLIC,
	  "sad|lonely|melancholy|melancholic|nostalgia|farewell|memory|memories|grief|loss|alone|missing",
	  "悲伤|孤独|忧郁|思念|离别|回忆|伤感|寂寞|想念|告别|失去|孤单", { "melancholic", "忧伤" }, LV_MOOD_MELANCHOLIC,
	  0, 0 },
	{ LV_LEX_MOOD, LV_MOOD_EPIC, "epic|majestic|grand|heroic|battle|war|adventure|vast|legend|legendary|triumph",
	  "壮丽|宏大|史诗|壮观|英雄|战斗|战争|冒险|辽阔|传奇|震撼|磅礴|雄伟", { "epic", "壮阔" }, LV_MOOD_EPIC, 0, 0 },
};

const lv_lex_entry *const lv_lex_entries = entries_;
const size_t lv_lex_n_entries = N(entries_);

/* ---- character roles -------------------------------------------------------------------------------- */

#define HUMAN LV_KIND_HUMAN
#define ANIMAL LV_KIND_ANIMAL
#define ROBOT LV_KIND_ROBOT
#define GU LV_GENDER_UNKNOWN
#define GM LV_GENDER_MALE
#define GF LV_GENDER_FEMALE

static const lv_lex_role roles_[] = {
	{ "little girl|girl|fille|fillette|ni\xc3\xb1" "a|chica|m\xc3\xa4" "dchen", "小女孩|女孩|小姑娘|姑娘|女童", { "the girl", "女孩" }, { "girl", "女孩" }, HUMAN, GF,
	  LV_AGE_CHILD, { "a {c} raincoat", "{c}雨衣" }, 0 },
	{ "little boy|boy|gar\xc3\xa7on|ni\xc3\xb1o|chico", "小男孩|男孩|男童", { "the boy", "男孩" }, { "boy", "男孩" }, HUMAN, GM, LV_AGE_CHILD,
	  { "a {c} hoodie", "{c}连帽衫" }, 0 },
	{ "child|kid|toddler", "孩子|小孩|儿童|小朋友", { "the child", "孩子" }, { "child", "孩子" }, HUMAN, GU, LV_AGE_CHILD,
	  { "a {c} hoodie", "{c}连帽衫" }, 0 },
	{ "old man|grandfather|grandpa|elderly man|old gentleman|vieil homme|vieillard|grand-p\xc3\xa8re|anciano|abuelo|gro\xc3\x9f" "vater|alter mann", "老爷爷|爷爷|老大爷|老先生|老头|外公|姥爷",
	  { "the old man", "老爷爷" }, { "old man", "老爷爷" }, HUMAN, GM, LV_AGE_OLD, { "a {c} cardigan", "{c}开衫" }, 0 },
	{ "old woman|grandmother|grandma|elderly woman|old lady|vieille femme|grand-m\xc3\xa8re|anciana|abuela|gro\xc3\x9f" "mutter", "老奶奶|奶奶|老太太|老妇人|外婆|姥姥",
	  { "the old woman", "老奶奶" }, { "old woman", "老奶奶" }, HUMAN, GF, LV_AGE_OLD,
	  { "a {c} knitted shawl", "{c}针织披肩" }, 0 },
	{ "old person|elder|old-timer", "老人|老者|长者|老人家", { "the elder", "老人" }, { "elder", "老人" }, HUMAN, GU,
	  LV_AGE_OLD, { "a {c} padded jacket", "{c}棉袄" }, 0 },
	{ "young woman|woman|lady|femme|mujer|frau", "年轻女子|女人|女子|少女|女士|姐姐", { "the woman", "女人" }, { "woman", "女子" }, HUMAN,
	  GF, LV_AGE_YOUNG, { "a {c} dress", "{c}连衣裙" }, 0 },
	{ "young man|man|gentleman|guy|homme|hombre|mann", "年轻人|小伙子|男人|男子|青年|少年|先生|哥哥", { "the man", "男人" },
	  { "man", "男子" }, HUMAN, GM, LV_AGE_YOUNG, { "a {c} jacket", "{c}夹克" }, 0 },
	{ "mother|mom|mum", "妈妈|母亲", { "the mother", "妈妈" }, { "mother", "母亲" }, HUMAN, GF, LV_AGE_ADULT,
	  { "a {c} coat", "{c}外套" }, 0 },
	{ "father|dad", "爸爸|父亲", { "the father", "爸爸" }, { "father", "父亲" }, HUMAN, GM, LV_AGE_ADULT,
	  { "a {c} work shirt", "{c}工装衬衫" }, 0 },
	{ "fisherman|fisher|p\xc3\xaa" "cheur|pescador|fischer", "老渔夫|渔夫|渔民|渔翁", { "the fisherman", "渔夫" }, { "fisherman", "渔夫" }, HUMAN, GM,
	  LV_AGE_ADULT, { "a {c} raincoat and rubber boots", "{c}雨衣和胶靴" }, 0 },
	{ "farmer", "农夫|农民|老农", { "the farmer", "农夫" }, { "farmer", "农夫" }, HUMAN, GM, LV_AGE_ADULT,
	  { "a {c} work shirt and a straw hat", "{c}工作衫，戴着草帽" }, 0 },
	{ "chef|cook|baker", "厨师|大厨|面包师", { "the chef", "厨师" }, { "chef", "厨师" }, HUMAN, GU, LV_AGE_ADULT,
	  { "a white chef's jacket and a {c} apron", "白色厨师服和{c}围裙" }, 0 },
	{ "painter|artist", "画家|画师|艺术家", { "the painter", "画家" }, { "painter", "画家" }, HUMAN, GU, LV_AGE_ADULT,
	  { "a {c} smock spattered with paint", "沾满颜料的{c}罩衫" }, 0 },
	{ "musician|guitarist|violinist|pianist|singer", "音乐家|乐手|吉他手|小提琴手|钢琴家|歌手", { "the musician", "乐手" },
	  { "musician", "乐手" }, HUMAN, GU, LV_AGE_YOUNG, { "a {c} jacket", "{c}外套" }, 0 },
	{ "astronaut|cosmonaut|spaceman", "宇航员|航天员", { "the astronaut", "宇航员" }, { "astronaut", "宇航员" }, HUMAN,
	  GU, LV_AGE_ADULT, { "a white spacesuit with {c} stripes", "带{c}条纹的白色宇航服" }, 0 },
	{ "knight", "骑士", { "the knight", "骑士" }, { "knight", "骑士" }, HUMAN, GM, LV_AGE_ADULT,
	  { "steel armour and a {c} cloak", "钢制盔甲和{c}披风" }, 0 },
	{ "soldier|warrior", "士兵|战士|武士", { "the soldier", "战士" }, { "soldier", "战士" }, HUMAN, GU, LV_AGE_YOUNG,
	  { "a {c} uniform", "{c}军装" }, 0 },
	{ "detective", "侦探|警探", { "the detective", "侦探" }, { "detective", "侦探" }, HUMAN, GU, LV_AGE_ADULT,
	  { "a {c} trench coat", "{c}风衣" }, 0 },
	{ "dancer|ballerina", "舞者|舞蹈家|芭蕾舞者", { "the dancer", "舞者" }, { "dancer", "舞者" }, HUMAN, GU,
	  LV_AGE_YOUNG, { "a flowing {c} costume", "飘逸的{c}舞衣" }, 0 },
	{ "student|schoolgirl|schoolboy", "学生|女学生|男学生|中学生|大学生", { "the student", "学生" }, { "student", "学生" },
	  HUMAN, GU, LV_AGE_YOUNG, { "a {c} school uniform", "{c}校服" }, 0 },
	{ "teacher", "老师|教师", { "the teacher", "老师" }, { "teacher", "老师" }, HUMAN, GU, LV_AGE_ADULT,
	  { "a {c} cardigan", "{c}开衫" }, 0 },
	{ "doctor|nurse", "医生|护士", { "the doctor", "医生" }, { "doctor", "医生" }, HUMAN, GU, LV_AGE_ADULT,
	  { "a white coat over a {c} shirt", "白大褂，里面是{c}衬衫" }, 0 },
	{ "traveler|traveller|wanderer|hiker|backpacker|explorer", "旅人|旅行者|背包客|探险家|行者",
	  { "the traveller", "旅人" }, { "traveller", "旅人" }, HUMAN, GU, LV_AGE_YOUNG,
	  { "a {c} hiking jacket", "{c}冲锋衣" }, 0 },
	{ "photographer", "摄影师", { "the photographer", "摄影师" }, { "photographer", "摄影师" }, HUMAN, GU,
	  LV_AGE_YOUNG, { "a {c} vest with a camera on a strap", "{c}摄影背心，挂着相机" }, 0 },
	{ "king", "国王", { "the king", "国王" }, { "king", "国王" }, HUMAN, GM, LV_AGE_OLD,
	  { "{c} royal robes and a gold crown", "{c}王袍，头戴金冠" }, 0 },
	{ "queen", "女王|王后", { "the queen", "女王" }, { "queen", "女王" }, HUMAN, GF, LV_AGE_ADULT,
	  { "a {c} gown and a gold crown", "{c}长裙，头戴金冠" }, 0 },
	{ "prince", "王子", { "the prince", "王子" }, { "prince", "王子" }, HUMAN, GM, LV_AGE_YOUNG,
	  { "{c} royal robes and a gold circlet", "{c}王袍，头戴金冠" }, 0 },
	{ "princess", "公主", { "the princess", "公主" }, { "princess", "公主" }, HUMAN, GF, LV_AGE_YOUNG,
	  { "a {c} gown and a silver tiara", "{c}长裙，头戴银冠" }, 0 },
	{ "robot|android|cyborg", "机器人|机械人|仿生人", { "the robot", "机器人" }, { "robot", "机器人" }, ROBOT, GU,
	  LV_AGE_ADULT, { 0, 0 }, 0 },
	{ "puppy|dog|chien|perro|hund", "小狗|狗狗|狗", { "the dog", "小狗" }, { "dog", "狗" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 1 },
	{ "kitten|cat|gato|katze", "小猫|猫咪|猫", { "the cat", "小猫" }, { "cat", "猫" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 1 },
	{ "horse|pony", "骏马|小马|马", { "the horse", "马" }, { "horse", "马" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 1 },
	{ "bird|sparrow|owl|crow|parrot", "小鸟|麻雀|猫头鹰|乌鸦|鹦鹉|鸟", { "the bird", "小鸟" }, { "bird", "鸟" }, ANIMAL, GU,
	  LV_AGE_ADULT, { 0, 0 }, 1 },
	{ "cow|ox|buffalo", "水牛|黄牛|奶牛|牛", { "the cow", "牛" }, { "cow", "牛" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 },
	  1 },
	{ "wolf", "狼", { "the wolf", "狼" }, { "wolf", "狼" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 1 },
	{ "fox", "狐狸", { "the fox", "狐狸" }, { "fox", "狐狸" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 0 },
	{ "rabbit|bunny", "兔子|小兔", { "the rabbit", "兔子" }, { "rabbit", "兔子" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 },
	  0 },
	{ "panda", "熊猫", { "the panda", "熊猫" }, { "panda", "熊猫" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 0 },
	{ "bear", "小熊|熊", { "the bear", "熊" }, { "bear", "熊" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 1 },
	{ "whale", "鲸鱼|鲸", { "the whale", "鲸鱼" }, { "whale", "鲸鱼" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 0 },
	{ "dragon", "巨龙|龙", { "the dragon", "巨龙" }, { "dragon", "龙" }, ANIMAL, GU, LV_AGE_ADULT, { 0, 0 }, 1 },
};

const lv_lex_role *const lv_lex_roles = roles_;
const size_t lv_lex_n_roles = N(roles_);

/* ---- conditions ------------------------------------------------------------------------------------- */

static const lv_lex_detail rain_d[] = {
	D("raindrops bouncing off the ground", "在地面上溅起的雨滴", "the raindrops", "雨滴"),
	D("umbrellas opening one after another", "一把把撑开的雨伞", "the umbrellas", "雨伞"),
	D("rain running down a window", "顺着玻璃流下的雨水", "the rain on the glass", "玻璃上的雨水"),
};
static const lv_lex_detail storm_d[] = {
	D("lightning splitting the clouds", "划破云层的闪电", "the lightning", "闪电"),
	D("trees bending in the gale", "在狂风中弯折的树", "the bending trees", "狂风中的树"),
	D("dark clouds rolling in fast", "迅速压来的乌云", "the storm clouds", "乌云"),
};
static const lv_lex_detail snow_d[] = {
	D("snowflakes settling on a sleeve", "落在衣袖上的雪花", "the snowflakes", "雪花"),
	D("footprints in fresh snow", "新雪上的脚印", "the footprints in the snow", "雪地上的脚印"),
	D("snow weighing down the branches", "压弯枝头的积雪", "the snowy branches", "积雪"),
};
static const lv_lex_detail fog_d[] = {
	D("shapes emerging from the fog", "从雾中浮现的轮廓", "the shapes in the fog", "雾中的轮廓"),
	D("fog drifting between the buildings", "在建筑间飘移的雾气", "the drifting fog", "雾气"),
};
static const lv_lex_detail wind_d[] = {
	D("grass rippling in the wind", "随风起伏的草", "the rippling grass", "起伏的草"),
	D("a scarf lifting in a gust", "被风吹起的围巾", "the gusts", "阵风"),
};
static const lv_lex_detail sunny_d[] = {
	D("sunlight flaring across the lens", "掠过镜头的耀眼阳光", "the sunlight", "阳光"),
	D("crisp shadows under a clear sky", "晴空下清晰的影子", "the crisp shadows", "清晰的影子"),
};
static const lv_lex_detail cloudy_d[] = {
	D("cloud shadows sweeping the ground", "掠过地面的云影", "the cloud shadows", "云影"),
	D("a break in the clouds letting light through", "云层缝隙里透出的光", "the break in the clouds", "云隙光"),
};
static const struct {
	const lv_lex_detail *d;
	size_t n;
} weather_details[LV_WEATHER_COUNT] = { { rain_d, N(rain_d) }, { storm_d, N(storm_d) }, { snow_d, N(snow_d) },
	                                { fog_d, N(fog_d) },   { wind_d, N(wind_d) },   { sunny_d, N(sunny_d) },
	                                { cloudy_d, N(cloudy_d) } };

static const lv_lex_detail spring_d[] = {
	D("new buds opening on the branches", "枝头绽开的新芽", "the new buds", "新芽"),
	D("swallows darting low", "低空掠过的燕子", "the swallows", "燕子"),
};
static const lv_lex_detail summer_d[] = {
	D("heat haze over the ground", "地面上升腾的暑气", "the summer heat", "暑气"),
	D("deep green leaves in full sun", "烈日下浓绿的树叶", "the green leaves", "绿叶"),
};
static const lv_lex_detail autumn_d[] = {
	D("red and gold leaves falling", "飘落的红叶与黄叶", "the falling leaves", "落叶"),
	D("a carpet of leaves on the path", "铺满小路的落叶", "the leaf-covered paths", "满地落叶"),
};
static const lv_lex_detail winter_d[] = {
	D("breath misting in the cold air", "冷空气中呼出的白气", "the frosty breath", "白气"),
	D("frost patterns on the glass", "玻璃上的霜花", "the frost", "霜花"),
};
static const struct {
	const lv_lex_detail *d;
	size_t n;
} season_details[LV_SEASON_COUNT] = { { spring_d, N(spring_d) }, { summer_d, N(summer_d) }, { autumn_d, N(autumn_d) },
	                              { winter_d, N(winter_d) } };

static const lv_lex_detail dawn_d[] = {
	D("the first rays touching the highest rooftops", "第一缕阳光照上最高的屋顶", "the first rays", "第一缕阳光"),
	D("the sky turning from indigo to gold", "由靛蓝渐变成金色的天空", "the changing sky", "渐变的天空"),
};
static const lv_lex_detail dusk_d[] = {
	D("the sun sinking into a haze of orange", "沉入橘色薄霭的夕阳", "the setting sun", "夕阳"),
	D("long golden light raking across the scene", "横扫画面的金色余晖", "the golden light", "余晖"),
};
static const lv_lex_detail night_d[] = {
	D("lights reflecting in dark water", "倒映在黑色水面上的灯光", "the reflected lights", "灯影"),
	D("a neon sign buzzing in the dark", "黑暗中嗡嗡作响的霓虹招牌", "the neon signs", "霓虹"),
};
static const lv_lex_detail noon_d[] = {
	D("hard shadows pooled beneath everything", "聚在万物脚下的浓重阴影", "the midday shadows", "正午的影子"),
};

const lv_lex_detail *lv_lex_time_details(int time, size_t *n)
{
	switch (time) {
	case LV_TIME_DAWN:
	case LV_TIME_MORNING:
		*n = N(dawn_d);
		return dawn_d;
	case LV_TIME_DUSK:
		*n = N(dusk_d);
		return dusk_d;
	case LV_TIME_NIGHT:
		*n = N(night_d);
		return night_d;
	case LV_TIME_NOON:
	case LV_TIME_AFTERNOON:
		*n = N(noon_d);
		return noon_d;
	default:
		*n = 0;
		return NULL;
	}
}

const lv_lex_detail *lv_lex_weather_details(int weather, size_t *n)
{
	if (weather < 0 || weather >= LV_WEATHER_COUNT) {
		*n = 0;
		return NULL;
	}
	*n = weather_details[weather].n;
	return weather_details[weather].d;
}

const lv_lex_detail *lv_lex_season_details(int season, size_t *n)
{
	if (season < 0 || season >= LV_SEASON_COUNT) {
		*n = 0;
		return NULL;
	}
	*n = season_details[season].n;
	return season_details[season].d;
}

/* Any scene has these; 24 of them, so a film of 23 shots always finds a distinct one per shot. */
static const lv_lex_detail generic_d[] = {
	D("light sliding slowly across surfaces", "缓缓滑过物体表面的光线", "the moving light", "流动的光线"),
	D("long shadows shifting on the ground", "在地面上移动的长影", "the long shadows", "长长的影子"),
	D("reflections trembling in a window", "窗玻璃上颤动的倒影", "the reflections", "倒影"),
	D("dust motes floating in a beam of light", "光束里漂浮的微尘", "the floating dust", "微尘"),
	D("textures in sharp relief", "纹理清晰可见的表面", "the textures", "纹理"),
	D("a door half open onto the light", "半开着、透出光的门", "the open doors", "半开的门"),
	D("footsteps passing through the frame", "从画面中走过的脚步", "the footsteps", "脚步"),
	D("birds crossing the frame", "掠过画面的飞鸟", "the passing birds", "飞鸟"),
	D("a breeze stirring loose leaves", "被微风拂动的落叶", "the stirring leaves", "拂动的叶子"),
	D("the horizon softening in the distance", "远处渐渐柔和的地平线", "the far horizon", "远方的地平线"),
	D("silhouettes against a bright background", "明亮背景前的剪影", "the silhouettes", "剪影"),
	D("colours deepening as the light changes", "随光线变化而加深的色彩", "the deepening colours", "色彩"),
	D("a small detail catching a glint of light", "闪过一丝光亮的小细节", "the small glints", "微光"),
	D("patterns of light and shade", "光与影交织的图案", "the light and shade", "光影"),
	D("a quiet corner no one notices", "无人留意的安静角落", "the quiet corners", "安静的角落"),
	D("movement blurring at the edge of the frame", "画面边缘模糊的动态", "the blurred motion", "模糊的动态"),
	D("the sky reflected in a puddle", "水洼里倒映的天空", "the mirrored sky", "倒映的天空"),
	D("weathered surfaces telling their age", "诉说着岁月的斑驳表面", "the weathered surfaces", "斑驳的痕迹"),
	D("a soft haze hanging in the air", "空气中悬浮的淡淡薄霭", "the soft haze", "薄霭"),
	D("light flaring at the edge of the lens", "镜头边缘泛起的光晕", "the lens flare", "光晕"),
	D("a line of lights in the distance", "远处连成一线的灯光", "the distant lights", "远处的灯光"),
	D("ripples of wind passing through", "一阵阵掠过的风", "the passing wind", "掠过的风"),
	D("a single object standing alone in the frame", "画面中独自伫立的一件物体", "the lone shapes", "孤独的身影"),
	D("the whole scene breathing in stillness", "在静止中呼吸的整个场景", "the stillness", "宁静"),
};

const lv_lex_detail *lv_lex_generic_details(size_t *n)
{
	*n = N(generic_d);
	return generic_d;
}

/* ---- style and wording tables ------------------------------------------------------------------------ */

static const char *const mood_names[LV_MOOD_COUNT] = { "calm", "bright", "tense", "melancholic", "epic" };
static const char *const mood_palettes[LV_MOOD_COUNT] = { "cool blue palette", "vivid warm palette",
	                                                  "high-contrast teal and amber palette",
	                                                  "muted grey-blue palette", "rich saturated palette" };
static const char *const mood_adj[LV_MOOD_COUNT][2] = {
	{ "serene", "宁静" }, { "alive", "热闹" }, { "charged", "紧张" }, { "hushed", "寂寥" }, { "magnificent", "壮观" }
};
static const char *const tech_styles[LV_TECH_COUNT] = {
	"time-lapse", "slow motion", "aerial drone footage", "macro photography", "documentary realism",
	"hand-drawn anime style", "3D animation", "black-and-white film", "watercolour illustration style",
	"Chinese ink-wash painting style", "cyberpunk neon aesthetic", "vintage film grain", "cinematic"
};
static const char *const time_lights[LV_TIME_COUNT] = { "soft dawn light",      "clear morning light",
	                                                "hard midday sun",      "warm afternoon light",
	                                                "golden-hour light",    "low-key night lighting with glowing practicals" };
static const char *const time_labels[LV_TIME_COUNT][2] = { { "dawn", "清晨" }, { "morning", "上午" },
	                                                   { "noon", "正午" }, { "afternoon", "午后" },
	                                                   { "dusk", "黄昏" }, { "night", "夜晚" } };
static const char *const weather_styles[LV_WEATHER_COUNT] = { "wet reflective surfaces", "dramatic storm light",
	                                                      "soft snowy diffusion",    "hazy diffused light",
	                                                      "wind-blown movement",     "bright sunshine",
	                                                      "soft overcast light" };
static const char *const weather_phrases[LV_WEATHER_COUNT][2] = {
	{ "in the rain", "雨中的" },        { "under a stormy sky", "风暴下的" }, { "in falling snow", "雪中的" },
	{ "wrapped in fog", "雾中的" },      { "in a strong wind", "风中的" },    { "under a clear sky", "晴空下的" },
	{ "under drifting clouds", "云影下的" }
};
static const char *const season_styles[LV_SEASON_COUNT] = { "fresh pastel greens", "saturated summer colours",
	                                                    "warm amber and rust tones", "cold desaturated tones" };
static const char *const phases[LV_LEX_PHASES][2] = {
	{ "in the blue hour before dawn", "黎明前的蓝调时刻" }, { "at first light", "天刚破晓时" },
	{ "as the sun rises", "太阳升起时" },                   { "in the clear morning light", "上午明亮的光线中" },
	{ "under the midday sun", "正午的阳光下" },             { "in the warm afternoon light", "午后温暖的光线里" },
	{ "in the golden hour", "日落前的金色时刻" },           { "as dusk falls", "暮色降临时" },
	{ "at night, under glowing lights", "夜幕下灯火亮起时" },     { "in the deep of night", "深夜时分" },
};

/* Where things happen at a place: "by the sea" / "海边". */
static const char *const wheres[][3] = {
	{ "the city", "in the city", "城市里" },
	{ "the streets", "in the streets", "街头" },
	{ "the market", "at the market", "集市上" },
	{ "the sea", "by the sea", "海边" },
	{ "the harbour", "at the harbour", "港口边" },
	{ "the forest", "in the forest", "森林里" },
	{ "the mountains", "in the mountains", "群山之间" },
	{ "the desert", "in the desert", "沙漠中" },
	{ "the river", "by the river", "河边" },
	{ "the lake", "by the lake", "湖边" },
	{ "the countryside", "in the countryside", "乡间" },
	{ "the night sky", "under the night sky", "星空下" },
	{ "space", "in space", "太空中" },
	{ "the garden", "in the garden", "花园里" },
	{ "the blossoms", "among the blossoms", "花树下" },
	{ "the kitchen", "in the kitchen", "厨房里" },
	{ "the café", "in the café", "咖啡馆里" },
	{ "the house", "in the house", "屋子里" },
	{ "the school", "at the school", "校园里" },
	{ "the station", "at the station", "车站里" },
	{ "the sky", "under the open sky", "天空下" },
	{ "the island", "on the island", "海岛上" },
	{ "the castle", "at the castle", "城堡中" },
	{ "the old town", "in the old town", "古镇里" },
	{ "the ice fields", "on the ice fields", "冰原上" },
	{ "the deep sea", "in the deep sea", "海底" },
	{ "the festival", "at the festival", "节日的人群中" },
	{ "the open road", "on the open road", "公路上" },
};

const char *lv_lex_where(const lv_lex_entry *e, int lang)
{
	size_t i;
	for (i = 0; e && i < N(wheres); i++)
		if (!strcmp(wheres[i][0], e->label[LV_LEX_EN]))
			return wheres[i][1 + lang];
	return lang == LV_LEX_EN ? "in the scene" : "画面中";
}

const char *lv_lex_time_at(int time, int lang)
{
	static const char *const at[LV_TIME_COUNT][2] = { { "at dawn", "清晨" },         { "in the morning", "上午" },
		                                          { "at noon", "正午" },         { "in the afternoon", "午后" },
		                                          { "at dusk", "黄昏" },         { "at night", "夜晚" } };
	return time >= 0 && time < LV_TIME_COUNT ? at[time][lang] : NULL;
}

const char *lv_lex_mood_name(int mood)
{
	return mood >= 0 && mood < LV_MOOD_COUNT ? mood_names[mood] : mood_names[0];
}

const char *lv_lex_mood_palette(int mood)
{
	return mood >= 0 && mood < LV_MOOD_COUNT ? mood_palettes[mood] : mood_palettes[0];
}

const char *lv_lex_mood_adjective(int mood, int lang)
{
	return mood_adj[mood >= 0 && mood < LV_MOOD_COUNT ? mood : 0][lang];
}

const char *lv_lex_tech_style(int tech)
{
	return tech >= 0 && tech < LV_TECH_COUNT ? tech_styles[tech] : NULL;
}

const char *lv_lex_time_light(int time)
{
	return time >= 0 && time < LV_TIME_COUNT ? time_lights[time] : NULL;
}

const char *lv_lex_time_label(int time, int lang)
{
	return time >= 0 && time < LV_TIME_COUNT ? time_labels[time][lang] : NULL;
}

const char *lv_lex_weather_style(int weather)
{
	return weather >= 0 && weather < LV_WEATHER_COUNT ? weather_styles[weather] : NULL;
}

const char *lv_lex_weather_phrase(int weather, int lang)
{
	return weather >= 0 && weather < LV_WEATHER_COUNT ? weather_phrases[weather][lang] : NULL;
}

const char *lv_lex_season_style(int season)
{
	return season >= 0 && season < LV_SEASON_COUNT ? season_styles[season] : NULL;
}

const char *lv_lex_phase(int phase, int lang)
{
	return phases[((phase % LV_LEX_PHASES) + LV_LEX_PHASES) % LV_LEX_PHASES][lang];
}

const char *lv_lex_phase_peak(int phase, int lang)
{
	static const char *const peaks[LV_LEX_PHASES][2] = {
		{ "the sky beginning to glow", "天边开始泛光的一刻" },
		{ "the first light spilling over the horizon", "第一缕光洒过地平线的一刻" },
		{ "the sun breaking over the horizon", "太阳跃出地平线的一刻" },
		{ "the morning in full swing", "上午最热闹的时刻" },
		{ "the sun at its highest", "太阳升到最高的时刻" },
		{ "the light at its warmest", "光线最温暖的时刻" },
		{ "the sun slipping below the horizon", "落日沉入地平线的一刻" },
		{ "the last light fading from the sky", "最后一抹天光消失的一刻" },
		{ "the lights at their brightest", "灯火最盛的时刻" },
		{ "the world asleep under the stars", "万物在星空下沉睡的时刻" },
	};
	return peaks[((phase % LV_LEX_PHASES) + LV_LEX_PHASES) % LV_LEX_PHASES][lang];
}

int lv_lex_time_key_phase(int time)
{
	static const int key[LV_TIME_COUNT] = { 2, 3, 4, 5, 6, 8 };
	return time >= 0 && time < LV_TIME_COUNT ? key[time] : -1;
}

const char *lv_lex_peak(int time, int weather, int lang)
{
	static const char *const weather_peaks[LV_WEATHER_COUNT][2] = {
		{ "the downpour at its heaviest", "雨下得最大的时刻" }, { "the storm at its height", "风暴最猛烈的时刻" },
		{ "snow falling thick and silent", "大雪无声落下的时刻" }, { "the fog beginning to lift", "浓雾渐渐散开的时刻" },
		{ "the wind at its strongest", "风势最猛的时刻" },     { "the sun at its brightest", "阳光最灿烂的时刻" },
		{ "light breaking through the clouds", "阳光穿透云层的时刻" }
	};
	static const char *const time_peaks[LV_TIME_COUNT][2] = {
		{ "the sun breaking over the horizon", "太阳跃出地平线的一刻" },
		{ "the morning in full swing", "上午最热闹的时刻" },
		{ "the sun at its highest", "太阳升到最高的时刻" },
		{ "the light at its warmest", "光线最温暖的时刻" },
		{ "the sun slipping below the horizon", "落日沉入地平线的一刻" },
		{ "the lights at their brightest", "灯火最盛的时刻" },
	};
	if (weather >= 0 && weather < LV_WEATHER_COUNT && weather != LV_WEATHER_CLOUDY && weather != LV_WEATHER_SUNNY)
		return weather_peaks[weather][lang];
	if (time >= 0 && time < LV_TIME_COUNT)
		return time_peaks[time][lang];
	if (weather >= 0 && weather < LV_WEATHER_COUNT)
		return weather_peaks[weather][lang];
	return NULL;
}
