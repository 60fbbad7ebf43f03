/* SPDX-License-Identifier: Apache-2.0 */
/* test_rules: the customer service's field rules and folded names (services/customer/rules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules.h"

static void test_credit_code_check_character(void **state)
{
    (void)state;
    assert_true(rules_credit_code_valid("914403001922038216"));
    assert_true(rules_credit_code_valid("91110000600037341L"));
    assert_true(rules_credit_code_valid("91440300708461136T"));
    assert_false(rules_credit_code_valid("91440300708461136X")); /* another check character */
    assert_false(rules_credit_code_valid("9144030070846113"));   /* too short */
    assert_false(rules_credit_code_valid("91440300708461136t")); /* lower case: upper-cased first */
    assert_false(rules_credit_code_valid("9I4403001922038216")); /* I is never used */
    assert_false(rules_credit_code_valid(NULL));
}

static void test_phones_and_addresses(void **state)
{
    (void)state;
    assert_true(rules_mobile_valid("13912345678"));
    assert_false(rules_mobile_valid("12012345678"));
    assert_false(rules_mobile_valid("1391234567"));
    const char *good[] = {"0755-28780808", "075528780808", "010-12345678-123",
                          "28780808",      "400-820-8820", "8008208820"};
    const char *bad[] = {"0755-2878",      "12345",         "abc",
                         "0755--28780808", "010-12345678-", "400-820-88201"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(rules_telephone_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(rules_telephone_valid(bad[i]));
    assert_true(rules_email_valid("info@xihu-tech.cn"));
    assert_false(rules_email_valid("a@b"));
    assert_false(rules_email_valid("a b@c.cn"));
    assert_false(rules_email_valid("@c.cn"));
    assert_true(rules_website_valid("https://www.huawei.com/cn"));
    assert_true(rules_website_valid("huawei.com"));
    assert_false(rules_website_valid("no spaces.com x"));
    assert_false(rules_website_valid("localhost"));
    assert_true(rules_wechat_valid("huawei_cs"));
    assert_true(rules_wechat_valid("13912345678"));
    assert_false(rules_wechat_valid("1abcdef"));
    assert_false(rules_wechat_valid("abc"));
}

static void test_times(void **state)
{
    char t[RULES_TIME_BYTES];
    (void)state;
    assert_true(rules_time_parse("2026-12-03T08:00:00+08:00", false, t));
    assert_string_equal(t, "2026-12-03 00:00:00.000");
    assert_true(rules_time_parse("2026-12-03T08:00:00.5Z", false, t));
    assert_string_equal(t, "2026-12-03 08:00:00.500");
    assert_true(rules_time_parse("2024-02-29", true, t));
    assert_false(rules_time_parse("2024-02-29", false, t)); /* a date where a time is due */
    assert_false(rules_time_parse("2026-02-29", true, t));
    assert_false(rules_time_parse("2026-12-03T24:00:00Z", false, t));
    assert_false(rules_time_parse("2026-12-03T08:00:00", false, t)); /* no zone */
    assert_false(rules_time_parse("tomorrow", true, t));
}

static void test_birthdays(void **state)
{
    struct rules_birthday b = {-1, -1, -1};
    (void)state;
    assert_true(rules_birthday_parse("1988-05-17", 2026, &b));
    assert_int_equal(b.year, 1988);
    assert_int_equal(b.month, 5);
    assert_int_equal(b.day, 17);
    assert_true(rules_birthday_parse("05-17", 2026, &b));
    assert_int_equal(b.year, 0); /* the year not known */
    assert_int_equal(b.month, 5);
    assert_int_equal(b.day, 17);
    assert_true(rules_birthday_parse("02-29", 2026, &b)); /* without a year: any year */
    assert_true(rules_birthday_parse("2000-02-29", 2026, &b));
    assert_false(rules_birthday_parse("1900-02-29", 2026, &b)); /* not a leap year */
    assert_false(rules_birthday_parse("2023-02-29", 2026, &b));
    assert_false(rules_birthday_parse("02-30", 2026, &b));
    assert_false(rules_birthday_parse("04-31", 2026, &b));
    assert_false(rules_birthday_parse("13-01", 2026, &b));
    assert_false(rules_birthday_parse("00-10", 2026, &b));
    assert_false(rules_birthday_parse("05-00", 2026, &b));
    assert_true(rules_birthday_parse("1900-01-01", 2026, &b));
    assert_false(rules_birthday_parse("1899-12-31", 2026, &b)); /* years 1900 to this year */
    assert_true(rules_birthday_parse("2026-12-31", 2026, &b));
    assert_false(rules_birthday_parse("2027-01-01", 2026, &b));
    assert_false(rules_birthday_parse("5-17", 2026, &b));
    assert_false(rules_birthday_parse("1988/05/17", 2026, &b));
    assert_false(rules_birthday_parse("1988-05-17T00:00:00Z", 2026, &b));
    assert_false(rules_birthday_parse("88-05-17", 2026, &b));
    assert_false(rules_birthday_parse("", 2026, &b));
    assert_false(rules_birthday_parse(NULL, 2026, &b));
}

static void test_folded_names(void **state)
{
    char f[RULES_NAME_BYTES], n[RULES_NAME_BYTES], m[RULES_NAME_BYTES];
    (void)state;
    rules_name_fold("ＡＢＣ　科技 （深圳）", f);
    assert_string_equal(f, "abc科技(深圳)");
    const char *same[] = {"深圳市华为技术有限责任公司", "深圳市华为技术股份有限公司",
                          "深圳市华为技术（股份）有限公司", " 深圳市华为技术有限公司 "};
    rules_name_fold("深圳市华为技术有限公司", f);
    rules_name_norm(f, n);
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        rules_name_fold(same[i], f);
        rules_name_norm(f, m);
        assert_string_equal(m, n);
    }
}

static void test_bigrams(void **state)
{
    char g[RULES_GRAMS_MAX][RULES_GRAM_BYTES];
    (void)state;
    assert_int_equal(rules_bigrams("华为华为x", g, RULES_GRAMS_MAX), 3); /* distinct only */
    assert_string_equal(g[0], "华为");
    assert_string_equal(g[1], "为华");
    assert_string_equal(g[2], "为x");
    assert_int_equal(rules_bigrams("华", g, RULES_GRAMS_MAX), 0);
    assert_int_equal(rules_bigrams("😀a", g, RULES_GRAMS_MAX), 1);
    assert_string_equal(g[0], "😀a");
    assert_int_equal(rules_chars("华为😀a"), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credit_code_check_character),
        cmocka_unit_test(test_phones_and_addresses),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_birthdays),
        cmocka_unit_test(test_folded_names),
        cmocka_unit_test(test_bigrams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
