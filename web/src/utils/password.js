// SPDX-License-Identifier: Apache-2.0
// The password policy of the auth service (12..128 characters, not a common password; the
// server checks the second part) as el-form rules.

export const PASSWORD_MIN = 12
export const PASSWORD_MAX = 128

/** Rules of a new password field. 't' is the i18n function, so messages follow the language. */
export function passwordRules(t) {
  return [
    { required: true, message: t('password.required'), trigger: 'blur' },
    {
      min: PASSWORD_MIN,
      max: PASSWORD_MAX,
      message: t('password.length', { min: PASSWORD_MIN, max: PASSWORD_MAX }),
      trigger: 'blur',
    },
  ]
}

/** Rules of a "repeat the new password" field; 'current' returns the new password. */
export function confirmRule(t, current) {
  return [
    { required: true, message: t('password.confirmRequired'), trigger: 'blur' },
    {
      validator: (_rule, value, callback) => (value === current() ? callback() : callback(new Error(t('password.mismatch')))),
      trigger: 'blur',
    },
  ]
}
