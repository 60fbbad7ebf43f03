/* SPDX-License-Identifier: Apache-2.0 */
/* fieldcheck: the field rules customers and contacts share (how to reach them: mobile,
 * telephone, email, WeChat), with their field errors. */
#include "customer.h"
#include "rules.h"

#include <string.h>

const char *fieldcheck_given(json_t *b, const char *field)
{
    const char *v = json_string_value(json_object_get(b, field));
    return v && *v ? v : NULL;
}

void fieldcheck_reach(json_t *b, json_t *errors)
{
    const char *v;
    if ((v = fieldcheck_given(b, "mobile")) != NULL && !rules_mobile_valid(v))
        jsonv_error_add(errors, "mobile", JSONV_E_mobile_format,
                        "must be a mobile number of 11 digits (13x to 19x)");
    if ((v = fieldcheck_given(b, "telephone")) != NULL && !rules_telephone_valid(v))
        jsonv_error_add(errors, "telephone", JSONV_E_telephone_format,
                        "must be a telephone number such as 0755-28780808 or 400-820-8820");
    if ((v = fieldcheck_given(b, "email")) != NULL && !rules_email_valid(v))
        jsonv_error_add(errors, "email", JSONV_E_not_email, "is not an email address");
    if ((v = fieldcheck_given(b, "wechat")) != NULL && !rules_wechat_valid(v))
        jsonv_error_add(errors, "wechat", JSONV_E_wechat_format,
                        "must be a WeChat id (a letter, then 5 to 19 letters, digits, _ or -)"
                        " or a mobile number");
}
