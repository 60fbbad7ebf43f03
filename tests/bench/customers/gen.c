/* SPDX-License-Identifier: Apache-2.0 */
/* gen: N generated customers of the customer service, with their contacts, follow-ups and
 * keyword index, as tab-separated files for LOAD DATA (see load.sh and README.md beside it).
 *
 *   gen N OUTDIR ADMIN_ID < managers.tsv
 *
 * managers.tsv has one line a manager, "user_id<TAB>dept_id<TAB>username"; the first one owns
 * exactly 3% of the customers (30,000 of a million, the SELF figures), the others a Zipf share
 * (exponent 0.6) of the rest, so a few own tens of thousands and most a few thousand. The
 * customers' derived columns are what the service writes: name_search and name_norm by
 * rules_name_fold and rules_name_norm, telephone_digits by rules_digits, the bigrams of
 * customer_search by rules_bigrams (services/customer/rules.c, linked in). Writes
 * OUTDIR/{customers,customer_search,contacts,followups,followup_contacts}.tsv (customer_search
 * sorted by its primary key, for a sequential load) and OUTDIR/meta.tsv (the keywords and the
 * SELF manager the benchmark uses). The same N and managers give the same files. */
#include "rules.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *msg)
{
    fprintf(stderr, "gen: %s%s%s\n", msg, errno ? ": " : "", errno ? strerror(errno) : "");
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

/* ---- random numbers: xorshift64*, seeded, so a run is repeatable ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n). */
static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

/* True with probability 'pct' percent. */
static int chance(unsigned pct)
{
    return below(100) < pct;
}

#define PICK(a) ((a)[below(ARRAY_LEN(a))])

/* ---- the words names are made of ---- */

struct region {
    const char *city, *city_short, *province, *province_short, *area_code, *division;
    const char *districts[4];
    unsigned weight;
};

static const struct region regions[] = {
    {"深圳市",
     "深圳",
     "广东省",
     "广东",
     "0755",
     "440300",
     {"南山区", "福田区", "龙岗区", "宝安区"},
     9},
    {"广州市",
     "广州",
     "广东省",
     "广东",
     "020",
     "440100",
     {"天河区", "越秀区", "海珠区", "番禺区"},
     8},
    {"东莞市",
     "东莞",
     "广东省",
     "广东",
     "0769",
     "441900",
     {"南城街道", "东城街道", "长安镇", "虎门镇"},
     4},
    {"佛山市",
     "佛山",
     "广东省",
     "广东",
     "0757",
     "440600",
     {"禅城区", "南海区", "顺德区", "三水区"},
     4},
    {"杭州市",
     "杭州",
     "浙江省",
     "浙江",
     "0571",
     "330100",
     {"西湖区", "滨江区", "余杭区", "萧山区"},
     7},
    {"宁波市",
     "宁波",
     "浙江省",
     "浙江",
     "0574",
     "330200",
     {"鄞州区", "海曙区", "江北区", "北仑区"},
     4},
    {"温州市",
     "温州",
     "浙江省",
     "浙江",
     "0577",
     "330300",
     {"鹿城区", "龙湾区", "瓯海区", "乐清市"},
     3},
    {"南京市",
     "南京",
     "江苏省",
     "江苏",
     "025",
     "320100",
     {"玄武区", "秦淮区", "鼓楼区", "江宁区"},
     5},
    {"苏州市",
     "苏州",
     "江苏省",
     "江苏",
     "0512",
     "320500",
     {"姑苏区", "吴中区", "相城区", "工业园区"},
     6},
    {"无锡市",
     "无锡",
     "江苏省",
     "江苏",
     "0510",
     "320200",
     {"梁溪区", "滨湖区", "新吴区", "锡山区"},
     3},
    {"上海市",
     "上海",
     "上海市",
     "上海",
     "021",
     "310000",
     {"浦东新区", "徐汇区", "闵行区", "静安区"},
     10},
    {"北京市",
     "北京",
     "北京市",
     "北京",
     "010",
     "110000",
     {"朝阳区", "海淀区", "丰台区", "东城区"},
     10},
    {"天津市",
     "天津",
     "天津市",
     "天津",
     "022",
     "120000",
     {"和平区", "河西区", "南开区", "滨海新区"},
     3},
    {"重庆市",
     "重庆",
     "重庆市",
     "重庆",
     "023",
     "500000",
     {"渝中区", "江北区", "南岸区", "九龙坡区"},
     3},
    {"成都市",
     "成都",
     "四川省",
     "四川",
     "028",
     "510100",
     {"锦江区", "武侯区", "高新区", "成华区"},
     5},
    {"武汉市",
     "武汉",
     "湖北省",
     "湖北",
     "027",
     "420100",
     {"江汉区", "武昌区", "洪山区", "汉阳区"},
     4},
    {"长沙市",
     "长沙",
     "湖南省",
     "湖南",
     "0731",
     "430100",
     {"岳麓区", "芙蓉区", "天心区", "雨花区"},
     3},
    {"西安市",
     "西安",
     "陕西省",
     "陕西",
     "029",
     "610100",
     {"雁塔区", "碑林区", "未央区", "长安区"},
     3},
    {"郑州市",
     "郑州",
     "河南省",
     "河南",
     "0371",
     "410100",
     {"金水区", "二七区", "中原区", "管城区"},
     3},
    {"济南市",
     "济南",
     "山东省",
     "山东",
     "0531",
     "370100",
     {"历下区", "市中区", "槐荫区", "天桥区"},
     3},
    {"青岛市",
     "青岛",
     "山东省",
     "山东",
     "0532",
     "370200",
     {"市南区", "市北区", "黄岛区", "崂山区"},
     3},
    {"厦门市",
     "厦门",
     "福建省",
     "福建",
     "0592",
     "350200",
     {"思明区", "湖里区", "集美区", "海沧区"},
     3},
    {"福州市",
     "福州",
     "福建省",
     "福建",
     "0591",
     "350100",
     {"鼓楼区", "台江区", "仓山区", "晋安区"},
     2},
    {"合肥市",
     "合肥",
     "安徽省",
     "安徽",
     "0551",
     "340100",
     {"蜀山区", "包河区", "庐阳区", "瑶海区"},
     2},
    {"昆明市",
     "昆明",
     "云南省",
     "云南",
     "0871",
     "530100",
     {"五华区", "盘龙区", "官渡区", "西山区"},
     1},
    {"沈阳市",
     "沈阳",
     "辽宁省",
     "辽宁",
     "024",
     "210100",
     {"和平区", "沈河区", "皇姑区", "铁西区"},
     2},
};

/* Characters brand names are made of: 2 to 4 of ~400 give millions of brands. */
static const char brand_chars[] =
    "华中国天新东方金恒信达盛泰安和通宏远鑫丰瑞祥康美嘉德永兴隆昌顺利荣宝海宇辰光明亮星月阳晨"
    "创智联科博思维卓越领先锐捷精诚鼎立汇聚合众凯旋腾飞龙凤麒麟鹏程万里青山绿水银河北斗启航"
    "未来世纪时代环球亚太欧美佳华润泽福禄寿喜乐百千家园林森木火土石玉珠翠蓝红紫云霞雪雨风雷"
    "电波磁能量子微纳米芯片算法网络数据源码宏图伟业基石磐铭志远大同小康福满堂春夏秋冬梅兰竹菊"
    "松柏桃李杏梨橙柚江河湖泊岛屿港湾桥塔城邦州府郡县乡村镇巷街道路弘毅厚朴致远笃行至善尚品"
    "臻选优越卓尔非凡超群齐鲁燕赵吴越楚湘蜀滇黔桂闽粤晋冀豫皖赣浙沪京津渝辽吉黑蒙藏新疆甘宁"
    "青琼港澳台日升旭晖煜炜烨焕灿耀辉映彩虹霓裳锦绣缤纷璀璨玲珑晶莹剔透清澈纯净朗润舒畅逸飞";

struct industry {
    const char *code; /* the dictionary value (services/auth/dicts.tsv: industry) */
    const char *words[8];
    unsigned weight;
};

static const struct industry industries[] = {
    {"it",
     {"科技", "网络科技", "信息技术", "软件", "电子科技", "智能科技", "数据科技", "信息科技"},
     20},
    {"manufacturing",
     {"机械", "电子", "精密制造", "新材料", "化工", "塑胶制品", "五金", "汽车配件"},
     22},
    {"retail", {"贸易", "商贸", "百货", "电子商务", "食品", "服饰", "进出口", "供应链"}, 18},
    {"finance",
     {"投资", "资产管理", "融资租赁", "投资管理", "金融信息服务", "保险代理", "财务咨询", "担保"},
     4},
    {"construction",
     {"建材", "建筑工程", "装饰工程", "房地产开发", "置业", "市政工程", "园林绿化", "钢结构"},
     10},
    {"education",
     {"教育科技", "教育咨询", "培训", "文化教育", "职业培训", "教育", "留学咨询", "图书"},
     4},
    {"healthcare",
     {"医药", "生物科技", "医疗器械", "健康管理", "药业", "医疗科技", "康复", "生物医药"},
     6},
    {"logistics",
     {"物流", "供应链管理", "国际货运", "运输", "仓储", "快递", "货运代理", "冷链物流"},
     6},
    {"other",
     {"文化传媒", "广告", "企业管理咨询", "餐饮管理", "环保科技", "新能源", "实业", "农业发展"},
     10},
};

static const char *const sources[] = {"web", "referral", "exhibition", "cold_call",
                                      "ads", "partner",  "other"};
static const char *const methods[] = {"phone",  "phone", "phone", "wechat",
                                      "wechat", "visit", "email", "meeting"};
static const char *const roads[] = {"科技园路", "深南大道", "中山路", "人民路",   "解放路",
                                    "建设路",   "长江路",   "黄河路", "滨江大道", "世纪大道",
                                    "创业路",   "工业大道", "文化路", "和平路",   "新华路",
                                    "东风路",   "高新大道", "学府路", "青年路",   "光明路"};
static const char *const buildings[] = {"",         "",       "",         "国际大厦",
                                        "科技大厦", "创业园", "商务中心", "产业园"};
static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐",   "孙",   "马",   "朱",  "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许",   "韩",   "冯",   "邓",  "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余",   "杜",   "叶",   "程",  "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭",   "陆",   "汪",   "范",  "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊",   "秦",   "邱",   "江",  "尹",
    "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾",   "毛",   "郝",   "龚",  "邵",
    "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤", "欧阳", "司马", "诸葛", "上官"};
static const char given_chars[] =
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲建国文斌宇"
    "浩凯健俊帆帅旭宁龙林欣佳晨雪琳婷倩颖慧莉梅燕晶蕾瑶怡婧雯楠博然航睿哲轩昊鑫"
    "瑞泽宏志成海波峰亮飞阳春晓东琴云萌洁淑荣兵嘉子涵梓欣一诺雨桐思远";
static const char *const positions[] = {
    "总经理",     "副总经理", "采购经理", "采购专员", "财务经理", "技术总监",
    "项目经理",   "行政主管", "销售总监", "董事长",   "运营经理", "法务经理",
    "市场部经理", "人事经理", "工程师",   "总裁助理", "",         ""};
static const char *const talk[] = {
    "电话沟通了新一季度的报价，客户表示需要内部讨论后回复",
    "上门拜访，演示了新版系统，对方对报表功能比较满意",
    "微信发送了合同草稿，等待对方法务审核",
    "客户反馈上批货物有少量破损，已安排补发",
    "约了下周二到公司详谈年度框架协议",
    "对方采购换人了，重新介绍了我们的产品和服务",
    "邮件发送了产品资料和案例，客户说会转给技术部门评估",
    "参加了客户的供应商大会，和采购总监交换了名片",
    "客户询问了售后服务条款和付款方式，已详细解答",
    "回访使用情况，客户整体满意，提出了两点改进意见",
    "报价被认为偏高，申请了九五折优惠，等待领导审批",
    "客户预算要到下个月才批下来，约定月底再跟进",
    "陪同技术人员上门安装调试，现场验收通过",
    "节日问候，顺便了解了对方明年的采购计划",
    "对方提出要增加两个型号，需要准备新的报价单",
};

/* The 'i'-th character (UTF-8, 3 bytes for these) of 's' into 'out' (appended). */
static void char_at(const char *s, size_t i, char *out)
{
    strncat(out, s + 3 * i, 3);
}

static size_t chars_of(const char *s)
{
    return strlen(s) / 3;
}

/* ---- output ---- */

static const char *const file_names[] = {"customers", "contacts", "followups", "followup_contacts"};
enum { F_CUSTOMERS, F_CONTACTS, F_FOLLOWUPS, F_FOLLOWUP_CONTACTS, F_N };
static FILE *outf[F_N];

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.tsv", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die(path);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

/* A DATETIME(3) text of epoch seconds 't' (UTC), or \N when 't' is 0. */
static const char *dt(time_t t, char buf[32])
{
    struct tm tm;
    if (t == 0)
        return "\\N";
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%d %H:%M:%S.000", &tm);
    return buf;
}

/* ---- the keyword index ---- */

/* A bigram packed big-endian into 8 bytes (zero padded), so that comparing the numbers
 * compares the UTF-8 bytes, which is utf8mb4_bin's order. */
struct gram_row {
    uint64_t gram;
    uint32_t id;
};

static struct gram_row *grams;
static size_t ngrams, grams_cap;

static uint64_t gram_pack(const char *g)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)(i < strlen(g) ? g[i] : 0);
    return v;
}

static int gram_cmp(const void *a, const void *b)
{
    const struct gram_row *x = a, *y = b;
    if (x->gram != y->gram)
        return x->gram < y->gram ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void index_name(uint32_t id, const char *name_search)
{
    char g[RULES_GRAMS_MAX][RULES_GRAM_BYTES];
    size_t n = rules_bigrams(name_search, g, RULES_GRAMS_MAX);
    if (ngrams + n > grams_cap) {
        grams_cap = grams_cap ? grams_cap * 2 : 1 << 20;
        grams = realloc(grams, grams_cap * sizeof(*grams));
        if (grams == NULL)
            die("out of memory");
    }
    for (size_t i = 0; i < n; i++)
        grams[ngrams++] = (struct gram_row){gram_pack(g[i]), id};
}

/* ---- distinct normalised names (the duplicate rule) ---- */

static uint64_t *seen;
static size_t seen_cap;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h | 1; /* 0 is an empty slot */
}

/* True when 'norm' was new (and is now recorded). A 64-bit hash stands for the name: a false
 * "seen" only makes one more draw. */
static int seen_add(const char *norm)
{
    uint64_t h = fnv(norm);
    for (size_t i = h % seen_cap;; i = (i + 1) % seen_cap) {
        if (seen[i] == h)
            return 0;
        if (seen[i] == 0) {
            seen[i] = h;
            return 1;
        }
    }
}

/* ---- owners ---- */

struct manager {
    long long id, dept;
    char username[64];
    long long owns;
};

static struct manager *managers;
static size_t nmanagers;

static void read_managers(void)
{
    char line[256];
    size_t cap = 0;
    while (fgets(line, sizeof(line), stdin)) {
        struct manager m = {0};
        if (sscanf(line, "%lld\t%lld\t%63s", &m.id, &m.dept, m.username) != 3)
            continue;
        if (nmanagers == cap) {
            cap = cap ? cap * 2 : 64;
            managers = realloc(managers, cap * sizeof(*managers));
            if (managers == NULL)
                die("out of memory");
        }
        managers[nmanagers++] = m;
    }
    if (nmanagers < 2)
        die("managers.tsv on stdin needs two lines or more (user_id, dept_id, username)");
}

/* How many customers each manager owns: 3% for the first, a Zipf share of the rest for the
 * others (largest remainders, so the counts add up to 'n'). */
static void share_owners(long long n)
{
    double sum = 0, *w = xmalloc(nmanagers * sizeof(*w));
    long long rest = n - n * 3 / 100, given = 0;
    managers[0].owns = n * 3 / 100;
    for (size_t i = 1; i < nmanagers; i++)
        sum += w[i] = pow((double)i + 1, -0.6);
    for (size_t i = 1; i < nmanagers; i++) {
        managers[i].owns = (long long)floor((double)rest * w[i] / sum);
        given += managers[i].owns;
    }
    for (size_t i = 1; given < rest; i = i % (nmanagers - 1) + 1, given++)
        managers[i].owns++;
    free(w);
}

/* ---- one customer and its children ---- */

struct gen {
    long long n;
    time_t now;
    long long admin;
    uint32_t next_contact_id, next_followup_id;
    long long counts[F_N + 1]; /* rows per file, then the grams */
    char rare[64];             /* a 3-character brand of a customer of the first manager */
};

/* A unique number in [0, m) for 'id' < m: 'id' times 'mul' (coprime with m) mod m. */
static uint64_t spread(uint64_t id, uint64_t mul, uint64_t m)
{
    return id * mul % m;
}

static void credit_code(uint32_t id, const char *division, char out[19])
{
    static const char alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    uint64_t v = spread(id, 1000003, 26439622160671ull); /* 31^9, 1000003 is prime */
    long sum = 0, weight = 1;
    snprintf(out, 19, "91%s", division);
    for (int i = 16; i >= 8; i--, v /= 31)
        out[i] = alpha[v % 31];
    for (int i = 0; i < 17; i++) {
        sum += (long)(strchr(alpha, out[i]) - alpha) * weight;
        weight = weight * 3 % 31;
    }
    out[17] = alpha[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* An index into the 'n' records of 'size' bytes at 'base', drawn by the unsigned weight at
 * 'offset' of each record. */
static size_t pick_weighted(const void *base, size_t n, size_t size, size_t offset)
{
    const char *p = base;
    unsigned total = 0, r;
    for (size_t i = 0; i < n; i++)
        total += *(const unsigned *)(p + i * size + offset);
    r = (unsigned)below(total);
    for (size_t i = 0;; i++) {
        unsigned w = *(const unsigned *)(p + i * size + offset);
        if (r < w)
            return i;
        r -= w;
    }
}

#define PICK_WEIGHTED(a)                                                                           \
    (&(a)[pick_weighted((a), ARRAY_LEN(a), sizeof((a)[0]), offsetof(__typeof__((a)[0]), weight))])

/* A company name: region prefix, brand, industry word, legal form. */
static void company_name(const struct region *rg, const struct industry *ind, char *name,
                         char *brand)
{
    unsigned len = chance(50) ? 2 : chance(70) ? 3 : 4, form = (unsigned)below(100);
    const char *prefix = "", *word = ind->words[below(8)];
    brand[0] = '\0';
    for (unsigned i = 0; i < len; i++)
        char_at(brand_chars, below(chars_of(brand_chars)), brand);
    switch (below(20)) {
    case 0 ... 7:
        prefix = rg->city;
        break;
    case 8 ... 12:
        prefix = rg->city_short;
        break;
    case 13 ... 15:
        prefix = rg->province_short;
        break;
    default:
        break; /* no region in the name */
    }
    if (form < 5) /* 华为技术（深圳）有限公司 */
        snprintf(name, 181, "%s%s（%s）有限公司", brand, word, rg->city_short);
    else
        snprintf(name, 181, "%s%s%s%s", prefix, brand, word,
                 form < 58   ? "有限公司"
                 : form < 80 ? "有限责任公司"
                 : form < 95 ? "股份有限公司"
                             : "集团有限公司");
}

static void person_name(char *out)
{
    snprintf(out, 32, "%s", PICK(surnames));
    for (unsigned i = 0, n = chance(70) ? 2 : 1; i < n; i++)
        char_at(given_chars, below(chars_of(given_chars)), out);
}

/* Epoch seconds uniform in [a, b]. */
static time_t between(time_t a, time_t b)
{
    return b > a ? a + (time_t)below((uint64_t)(b - a) + 1) : a;
}

static int time_cmp(const void *a, const void *b)
{
    time_t x = *(const time_t *)a, y = *(const time_t *)b;
    return (x > y) - (x < y);
}

static void customer(struct gen *g, uint32_t id, const struct manager *m)
{
    enum { DAY = 86400 };
    const struct region *rg = PICK_WEIGHTED(regions);
    const struct industry *ind = PICK_WEIGHTED(industries);
    char name[192], brand[32], folded[RULES_NAME_BYTES], norm[RULES_NAME_BYTES];
    char code[19] = "\\N", tel[32] = "", teld[32] = "", mob[12] = "", b1[32], b2[32], b3[32];
    char email[64] = "", web[64] = "", wx[32] = "", addr[160];
    do {
        company_name(rg, ind, name, brand);
        rules_name_fold(name, folded);
        rules_name_norm(folded, norm);
    } while (!seen_add(norm));
    if (m == &managers[0] && g->rare[0] == '\0' && chars_of(brand) == 3 && id > g->n / 2)
        snprintf(g->rare, sizeof(g->rare), "%s", brand);
    if (chance(40))
        credit_code(id, rg->division, code);
    if (chance(60)) {
        snprintf(tel, sizeof(tel), "%s-%llu", rg->area_code,
                 (unsigned long long)(20000000 + spread(id, 7919, 70000000)));
        rules_digits(tel, teld, sizeof(teld));
    }
    if (chance(70))
        snprintf(mob, sizeof(mob), "1%c%09llu", "3456789"[below(7)],
                 (unsigned long long)spread(id, 387420489, 1000000000));
    if (chance(30))
        snprintf(email, sizeof(email), "sales%u@c%u.com.cn", id, id % 99991);
    if (chance(20))
        snprintf(web, sizeof(web), "www.c%u.com.cn", id);
    if (chance(30))
        snprintf(wx, sizeof(wx), "wx_%08u", id);
    const char *district = rg->districts[below(4)];
    snprintf(addr, sizeof(addr), "%s%s%llu号%s", district, PICK(roads),
             (unsigned long long)below(999) + 1, PICK(buildings));

    time_t created = g->now - (time_t)below(5LL * 365 * DAY);
    time_t owner_time = chance(20) ? between(created, g->now) : created;
    long long created_by = chance(85) ? m->id : g->admin;

    /* contacts: 0 to 6 (3 on average), the first is the primary */
    unsigned ncontacts = (unsigned)below(7);
    uint32_t first_contact = g->next_contact_id;
    for (unsigned i = 0; i < ncontacts; i++) {
        uint32_t cid = g->next_contact_id++;
        char pname[32], pfold[RULES_NAME_BYTES], cmob[12], by[16] = "\\N", bm[16] = "\\N",
                                                           bd[16] = "\\N";
        static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        person_name(pname);
        rules_name_fold(pname, pfold);
        snprintf(cmob, sizeof(cmob), "1%c%09llu", "3456789"[below(7)],
                 (unsigned long long)spread(cid, 1220703125, 1000000000) /* 5^13: odd */);
        if (chance(70)) { /* a birthday, its year known for 60% of them */
            int month = (int)below(12) + 1, day = (int)below((uint64_t)mdays[month - 1]) + 1;
            if (chance(60) && !(month == 2 && day == 29))
                snprintf(by, sizeof(by), "%d", 1960 + (int)below(41));
            snprintf(bm, sizeof(bm), "%d", month);
            snprintf(bd, sizeof(bd), "%d", day);
        }
        time_t c_at = between(created, created + 30 * DAY < g->now ? created + 30 * DAY : g->now);
        char reports[16] = "\\N";
        if (i > 0 && chance(30))
            snprintf(reports, sizeof(reports), "%u", first_contact);
        fprintf(
            outf[F_CONTACTS],
            "%u\t%u\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\t\t%s\t\t%s\t%s\t%s\t\t\t%d\t%lld\t%s\t%s\t1\n",
            cid, id, pname, pfold, chance(50) ? "male" : "female", PICK(positions), chance(20),
            reports, chance(90) ? cmob : "", chance(20) ? "zhang@example.cn" : "", by, bm, bd,
            i == 0, m->id, dt(c_at, b1), b1);
        g->counts[F_CONTACTS]++;
    }

    /* follow-ups: 0 to 10 (5 on average), in time order, each with one or two contacts */
    unsigned nfollow = (unsigned)below(11);
    time_t at[10], last = 0, next = 0;
    const char *last_talk = "";
    for (unsigned i = 0; i < nfollow; i++)
        at[i] = between(created, g->now);
    qsort(at, nfollow, sizeof(at[0]), time_cmp);
    for (unsigned i = 0; i < nfollow; i++) {
        uint32_t fid = g->next_followup_id++;
        const char *said = PICK(talk);
        time_t nx = chance(50) ? at[i] + (time_t)(below(30) + 1) * DAY : 0;
        fprintf(outf[F_FOLLOWUPS], "%u\t%u\t%s\t%s\t%s\t%s\t%lld\t%s\t%s\t1\n", fid, id,
                dt(at[i], b1), PICK(methods), said, dt(nx, b2), m->id, b1, b1);
        g->counts[F_FOLLOWUPS]++;
        unsigned nk = ncontacts == 0 ? 0 : ncontacts > 1 && chance(30) ? 2 : 1;
        uint64_t r = ncontacts ? below(ncontacts) : 0;
        for (unsigned k = 0; k < nk; k++) {
            uint32_t c = first_contact + (uint32_t)((r + k) % ncontacts);
            fprintf(outf[F_FOLLOWUP_CONTACTS], "%u\t%u\n", fid, c);
            g->counts[F_FOLLOWUP_CONTACTS]++;
        }
        last = at[i], next = nx, last_talk = said;
    }
    if (nfollow == 0 && chance(30)) /* planned at creation, soon or overdue */
        next = g->now + (time_t)below(30 * DAY) - 10 * DAY;

    const char *tags = chance(80)   ? "[]"
                       : chance(50) ? "[\"重点\"]"
                       : chance(50) ? "[\"老客户\"]"
                                    : "[\"展会\",\"重点\"]";
    unsigned st = (unsigned)below(100), lv = (unsigned)below(100);
    /* the recycle bin holds 0.5%, none of the first manager's (who owns exactly 3% live) */
    int dealt = chance(25), deleted = m != &managers[0] && chance(1) && chance(50);
    time_t updated = last > created ? last : created;
    fprintf(outf[F_CUSTOMERS],
            "%u\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", id,
            name, folded, norm, code, chance(95) ? ind->code : "", chance(90) ? PICK(sources) : "",
            lv < 10   ? "a"
            : lv < 60 ? "b"
            : lv < 90 ? "c"
                      : "",
            rg->province, rg->city, district, addr, tel, teld, mob, email, web, wx,
            st < 40   ? "potential"
            : st < 75 ? "active"
            : st < 90 ? "at_risk"
                      : "lost",
            dealt ? "dealt" : "undealt");
    fprintf(outf[F_CUSTOMERS], "%s\t%lld\t%s\t%s\t\t",
            dealt ? dt(between(created, g->now), b1) : "\\N", m->id, dt(owner_time, b2), tags);
    fprintf(outf[F_CUSTOMERS], "%s\t%s\t", dt(last, b1), last_talk);
    fprintf(outf[F_CUSTOMERS], "%s\t%d\t%lld\t", dt(next, b1), last != 0 && last >= owner_time,
            created_by);
    fprintf(outf[F_CUSTOMERS], "%s\t", dt(created, b1));
    fprintf(outf[F_CUSTOMERS], "%s\t1\t", dt(updated, b1));
    if (deleted) /* in the recycle bin */
        fprintf(outf[F_CUSTOMERS], "%s\t%lld\n", dt(updated, b3), g->admin);
    else
        fprintf(outf[F_CUSTOMERS], "\\N\t\\N\n");
    g->counts[F_CUSTOMERS]++;
    index_name(id, folded);
}

int main(int argc, char **argv)
{
    struct gen g = {.next_contact_id = 1, .next_followup_id = 1};
    char *end = NULL;
    if (argc != 4)
        die("usage: gen N OUTDIR ADMIN_ID < managers.tsv");
    g.n = strtoll(argv[1], &end, 10);
    if (*end || g.n < 100 || g.n > 4000000)
        die("N must be a number from 100 to 4,000,000");
    g.admin = strtoll(argv[3], &end, 10);
    if (*end || g.admin <= 0)
        die("ADMIN_ID must be a user id");
    g.now = time(NULL);
    read_managers();
    share_owners(g.n);

    /* who owns each customer, shuffled (Fisher-Yates) so that owners interleave */
    uint32_t *owner = xmalloc((size_t)g.n * sizeof(*owner));
    for (size_t i = 0, k = 0; i < nmanagers; i++)
        for (long long j = 0; j < managers[i].owns; j++)
            owner[k++] = (uint32_t)i;
    for (long long i = g.n - 1; i > 0; i--) {
        uint64_t j = below((uint64_t)i + 1);
        uint32_t t = owner[i];
        owner[i] = owner[j];
        owner[j] = t;
    }
    seen_cap = (size_t)g.n * 4;
    seen = calloc(seen_cap, sizeof(*seen));
    if (seen == NULL)
        die("out of memory");

    for (size_t i = 0; i < F_N; i++)
        outf[i] = open_out(argv[2], file_names[i]);
    for (long long i = 0; i < g.n; i++)
        customer(&g, (uint32_t)(i + 1), &managers[owner[i]]);
    for (size_t i = 0; i < F_N; i++) {
        if (fclose(outf[i]) != 0)
            die("writing a file");
    }

    qsort(grams, ngrams, sizeof(*grams), gram_cmp);
    FILE *f = open_out(argv[2], "customer_search");
    for (size_t i = 0; i < ngrams; i++) {
        char s[9];
        for (int b = 0; b < 8; b++)
            s[b] = (char)(grams[i].gram >> (56 - 8 * b));
        s[8] = '\0';
        fprintf(f, "%s\t%u\n", s, grams[i].id);
    }
    if (fclose(f) != 0)
        die("writing customer_search.tsv");
    g.counts[F_N] = (long long)ngrams;

    f = open_out(argv[2], "meta");
    fprintf(f,
            "customers\t%lld\ncontacts\t%lld\nfollowups\t%lld\nfollowup_contacts\t%lld\n"
            "grams\t%lld\nself_manager\t%lld\nself_username\t%s\nself_owns\t%lld\n"
            "rare_keyword\t%s\nlargest_owns\t%lld\nsmallest_owns\t%lld\n",
            g.counts[F_CUSTOMERS], g.counts[F_CONTACTS], g.counts[F_FOLLOWUPS],
            g.counts[F_FOLLOWUP_CONTACTS], g.counts[F_N], managers[0].id, managers[0].username,
            managers[0].owns, g.rare, managers[1].owns, managers[nmanagers - 1].owns);
    if (fclose(f) != 0)
        die("writing meta.tsv");
    free(owner);
    free(seen);
    free(grams);
    free(managers);
    return 0;
}
