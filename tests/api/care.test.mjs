// SPDX-License-Identifier: Apache-2.0
// Customer care (issue 14): the daily birthday scan (one task per contact per year, twice
// makes nothing twice, a contact added after a scan gets one on the next, 29 February in other
// years, the scan's time zone, a scan missed while the service was down made up at its start);
// the execution loop and its trail through the one transition function; scope (a manager never
// sees another's tasks); tasks follow a transfer, and go and come back with their customer;
// plans: a repeating one makes its next task, one by filter one task per matching contact.
// The clock is controlled by the scan's date (POST /api/v1/care/scan {date}) and by the scan
// days the service has recorded (care_scan_days), which a restart catches up from.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, expectProblem, healthy, mysql, serviceUrl, supervisorctl, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {};
const ME = {};
let seq = 0;

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The date in Asia/Shanghai 'days' days from now, as YYYY-MM-DD (the scan's zone). */
function shanghai(days = 0) {
  const d = new Date(Date.now() + 8 * 3600e3 + days * 86400e3);
  return d.toISOString().slice(0, 10);
}
const mmdd = (day) => day.slice(5);

/** A customer of 'who' with a contact born on 'birthday', once the care service knows both. */
async function contactBorn(who, birthday, fields = {}) {
  const c = await ok(await api('POST', '/api/v1/customers', T[who], { name: `关怀测试${sfx}${++seq}有限公司`, level: fields.level ?? 'b' }), 201);
  const k = await ok(await api('POST', '/api/v1/contacts', T[who], { customer_id: c.id, name: `联系人${seq}`, birthday, decision_maker: fields.decision_maker ?? false }), 201);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_care.care_contacts cc JOIN crm_care.customer_owners o ON o.customer_id = cc.customer_id WHERE cc.contact_id = ${k.id}`) === '1', 20000, `contact ${k.id} known to the care service`);
  return { customer: c, contact: k };
}
const scan = async (date) => ok(await api('POST', '/api/v1/care/scan', T.admin, date ? { date } : {}));
const tasksOf = (contactId) => mysql(`SELECT COUNT(*) FROM crm_care.care_tasks WHERE contact_id = ${Number(contactId)} AND kind = 'birthday'`);
const task = async (who, id) => ok(await api('GET', `/api/v1/care/tasks/${id}`, T[who]));
const birthdayTask = (contactId) => Number(mysql(`SELECT id FROM crm_care.care_tasks WHERE contact_id = ${Number(contactId)} AND kind = 'birthday' ORDER BY id LIMIT 1`));

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2', 'manager_south1', 'manager_south2']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
});

test('the scan: a contact born today gets exactly one task after two scans; one added after the scan gets one on the next', async () => {
  const today = shanghai();
  const { customer, contact } = await contactBorn('manager_east1', `1985-${mmdd(today)}`);
  const first = await scan();
  assert.equal(first.day, today, 'the scan\'s day is today in Shanghai');
  const second = await scan();
  assert.equal(second.made, 0, 'the second scan of the day makes nothing');
  assert.equal(second.already, true);
  assert.equal(tasksOf(contact.id), '1');
  const id = birthdayTask(contact.id);
  // and writes no event again: one care.created of the task
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_care.outbox WHERE event_type = 'care.created' AND JSON_VALUE(envelope, '$.subject.id') = '${id}'`), '1');
  const t = await task('manager_east1', id);
  assert.equal(t.kind, 'birthday');
  assert.equal(t.care_type, 'birthday');
  assert.equal(t.customer_id, customer.id);
  assert.equal(t.contact_name, contact.name);
  assert.equal(t.manager_id, ME.manager_east1);
  assert.equal(t.status, 'pending');
  assert.equal(t.birthday_year, Number(today.slice(0, 4)));
  // a second contact of the same birthday, added after those scans: the next scan makes its task
  const late = await contactBorn('manager_east1', mmdd(today));
  assert.equal(tasksOf(late.contact.id), '0');
  const again = await scan();
  assert.ok(again.already, 'the day was scanned before');
  assert.equal(again.made, 1, 'only the contact added since');
  assert.equal(tasksOf(late.contact.id), '1');
  assert.equal(tasksOf(contact.id), '1', 'still one');
  // care.due for today's task, once
  await eventually(async () => (await task('manager_east1', id)).due_notified === true, 20000, 'care.due published');
  const due = mysql(`SELECT COUNT(*) FROM crm_care.outbox WHERE event_type = 'care.due' AND JSON_VALUE(envelope, '$.subject.id') = '${id}'`);
  assert.equal(due, '1');
  // my work: today's list and the counts
  const todayList = await ok(await api('GET', '/api/v1/care/tasks?view=today&page_size=100', T.manager_east1));
  assert.ok(todayList.items.some((x) => x.id === id));
  const counts = await ok(await api('GET', '/api/v1/care/tasks/counts', T.manager_east1));
  assert.ok(counts.today >= 2, JSON.stringify(counts));
  // the birthdays of the week and the workbench's numbers
  const week = await ok(await api('GET', '/api/v1/care/birthdays?days=7', T.manager_east1));
  assert.ok(week.items.some((x) => x.contact_id === contact.id));
  const sum = await ok(await api('GET', '/api/v1/care/summary', T.manager_east1));
  assert.ok(sum.birthdays_week >= 2);
  assert.equal(sum.done_per_week.length, 8);
});

test('the workbench counts every birthday of the week among the caller\'s own contacts; they follow a transfer and go with the contact', async () => {
  const week = async (who) => (await ok(await api('GET', '/api/v1/care/summary', T[who]))).birthdays_week;
  const listed = async (who) => (await ok(await api('GET', '/api/v1/care/birthdays?days=7', T[who]))).items.length;
  const s1 = await week('manager_south1');
  const s2 = await week('manager_south2');
  const { customer, contact } = await contactBorn('manager_south1', mmdd(shanghai(3)));
  await contactBorn('manager_south1', mmdd(shanghai(8))); // next week's: not this week's
  await contactBorn('manager_south1', `1990-${mmdd(shanghai(6))}`); // the last day of the week, with a year
  assert.equal(await week('manager_south1'), s1 + 2);
  assert.equal(await week('manager_south2'), s2, 'another manager\'s contacts are not mine');
  const n = await listed('manager_south1');
  if (n < 200) assert.equal(await week('manager_south1'), n, 'the count is the list\'s length');
  // the customer to manager_south2: its contact's birthday is theirs now, no longer south1's
  await ok(await api('POST', '/api/v1/transfers', T.manager_south1, { customer_ids: [customer.id], to_manager_id: ME.manager_south2, reason: '调岗' }), 201);
  await eventually(async () => (await week('manager_south2')) === s2 + 1, 20000, 'the birthday counted for the new manager');
  assert.equal(await week('manager_south1'), s1 + 1);
  // a deleted contact is not counted
  assert.equal((await api('DELETE', `/api/v1/contacts/${contact.id}`, T.manager_south2)).status, 204);
  await eventually(async () => (await week('manager_south2')) === s2, 20000, 'the deleted contact no longer counted');
});

test('29 February is greeted on 28 February in other years, and on the day in a leap year', async () => {
  const { contact } = await contactBorn('manager_east1', '02-29');
  await scan('2027-02-28');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_care.care_tasks WHERE contact_id = ${contact.id} AND birthday_year = 2027`), '1');
  await scan('2028-02-28');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_care.care_tasks WHERE contact_id = ${contact.id} AND birthday_year = 2028`), '0', 'not on the 28th of a leap year');
  await scan('2028-02-29');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_care.care_tasks WHERE contact_id = ${contact.id} AND birthday_year = 2028`), '1');
  // a bad date is a field error
  const p = await expectProblem(await api('POST', '/api/v1/care/scan', T.admin, { date: '2027-02-29' }), 422, 'validation_failed');
  assert.equal(p.errors[0].field, 'date');
  // only administrators run it
  await expectProblem(await api('POST', '/api/v1/care/scan', T.manager_east1, {}), 403, 'forbidden');
});

test('the time zone: the scan\'s today is Shanghai\'s, which is tomorrow in UTC for eight hours a day', async () => {
  const state = await ok(await api('GET', '/api/v1/care/scan', T.admin));
  assert.equal(state.tz, 'Asia/Shanghai');
  assert.equal(state.today, shanghai());
  // a birthday on Shanghai's today: its task is planned at Shanghai's midnight (16:00 UTC the day before)
  const { contact } = await contactBorn('manager_east1', mmdd(shanghai()));
  await scan();
  const t = await task('manager_east1', birthdayTask(contact.id));
  const planned = new Date(t.planned_at);
  assert.equal(planned.getUTCHours(), 16);
  assert.equal(new Date(planned.getTime() + 8 * 3600e3).toISOString().slice(0, 10), shanghai());
});

test('a scan missed while the service was down is made up when it starts', async () => {
  const yesterday = shanghai(-1);
  const { contact } = await contactBorn('manager_east1', `1990-${mmdd(yesterday)}`);
  // the service last scanned three days ago: it was down since
  mysql(`DELETE FROM crm_care.care_scan_days WHERE day >= '${shanghai(-3)}'`);
  mysql(`INSERT IGNORE INTO crm_care.care_scan_days (day, tasks) VALUES ('${shanghai(-3)}', 0)`);
  assert.equal(tasksOf(contact.id), '0');
  supervisorctl('restart', 'care');
  await eventually(() => healthy(serviceUrl('care')), 30000, 'care back');
  await eventually(() => tasksOf(contact.id) === '1', 30000, 'yesterday\'s birthday made up');
  const t = await task('manager_east1', birthdayTask(contact.id));
  assert.equal(t.overdue, true, 'planned yesterday: overdue');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_care.care_scan_days WHERE day BETWEEN '${shanghai(-2)}' AND '${shanghai()}'`), '3');
});

test('the execution loop: record, feedback, complete; the trail keeps each step; a done task is not cancelled', async () => {
  const { customer, contact } = await contactBorn('manager_east1', '1975-01-15');
  const made = await ok(await api('POST', '/api/v1/care/tasks', T.manager_east1, {
    customer_id: customer.id, contact_id: contact.id, care_type: 'phone', title: '年终电话问候', planned_at: new Date(Date.now() + 3 * 86400e3).toISOString(),
  }), 201);
  assert.equal(made.kind, 'manual');
  assert.equal(made.status, 'pending');
  // completing before anything was recorded: say what was done
  let p = await expectProblem(await api('POST', `/api/v1/care/tasks/${made.id}/complete`, T.manager_east1, { version: made.version }), 422, 'validation_failed');
  assert.equal(p.errors[0].field, 'content');
  const r = await ok(await api('POST', `/api/v1/care/tasks/${made.id}/record`, T.manager_east1, { version: made.version, content: '电话问候，客户说明年继续合作 😀' }));
  assert.equal(r.status, 'pending');
  const d = await ok(await api('POST', `/api/v1/care/tasks/${made.id}/complete`, T.manager_east1, { version: r.version }));
  assert.equal(d.status, 'done');
  assert.ok(d.done_at);
  const f = await ok(await api('POST', `/api/v1/care/tasks/${made.id}/feedback`, T.manager_east1, { version: d.version, feedback: '很满意我们的服务', satisfaction: 'very_satisfied' }));
  assert.equal(f.satisfaction, 'very_satisfied');
  assert.equal(f.status, 'done');
  p = await expectProblem(await api('POST', `/api/v1/care/tasks/${made.id}/cancel`, T.manager_east1, { version: f.version, reason: '不需要' }), 409, 'invalid_transition');
  assert.equal(p.current.status, 'done');
  await expectProblem(await api('POST', `/api/v1/care/tasks/${made.id}/record`, T.manager_east1, { version: 1, content: 'x' }), 409, 'invalid_transition');
  p = await expectProblem(await api('POST', `/api/v1/care/tasks/${made.id}/feedback`, T.manager_east1, { version: f.version, satisfaction: 'delighted' }), 422, 'validation_failed');
  assert.equal(p.errors[0].field, 'satisfaction');
  // a stale version
  await expectProblem(await api('POST', `/api/v1/care/tasks/${made.id}/feedback`, T.manager_east1, { version: 1, feedback: 'x' }), 409, 'version_conflict');
  // the trail
  const h = await ok(await api('GET', `/api/v1/care/tasks/${made.id}/history?page_size=100`, T.manager_east1));
  assert.deepEqual(h.items.map((i) => i.event_type).reverse(), ['care.created', 'care.updated', 'care.done', 'care.updated']);
  const done = h.items.find((i) => i.event_type === 'care.done');
  assert.deepEqual(done.data.changes.find((x) => x.field === 'status'), { field: 'status', before: 'pending', after: 'done' });
  assert.equal(done.actor_name, '张伟');
  // in the audit too
  await eventually(async () => {
    const a = await ok(await api('GET', `/api/v1/audit/history/care_task/${made.id}`, T.admin));
    return a.items.length === 4;
  }, 20000, 'the trail in the audit');
  // cancel with a reason (blank refused)
  const other = await ok(await api('POST', '/api/v1/care/tasks', T.manager_east1, { customer_id: customer.id, care_type: 'visit', title: '上门拜访', planned_at: '2027-01-10' }), 201);
  p = await expectProblem(await api('POST', `/api/v1/care/tasks/${other.id}/cancel`, T.manager_east1, { version: other.version, reason: '  ' }), 422, 'validation_failed');
  assert.equal(p.errors[0].field, 'reason');
  const c = await ok(await api('POST', `/api/v1/care/tasks/${other.id}/cancel`, T.manager_east1, { version: other.version, reason: '客户出差' }));
  assert.equal(c.status, 'cancelled');
  assert.equal(c.cancel_reason, '客户出差');
  // field rules of a task by hand
  p = await expectProblem(await api('POST', '/api/v1/care/tasks', T.manager_east1, { customer_id: customer.id, care_type: 'dance', title: ' ', planned_at: 'soon' }), 422, 'validation_failed');
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['care_type', 'planned_at', 'title']);
});

test('scope: a manager never sees another manager\'s tasks by list, id, count or action', async () => {
  const { customer } = await contactBorn('manager_south1', '1980-03-03');
  const t = await ok(await api('POST', '/api/v1/care/tasks', T.manager_south1, { customer_id: customer.id, care_type: 'phone', title: '南区问候', planned_at: new Date().toISOString() }), 201);
  await expectProblem(await api('GET', `/api/v1/care/tasks/${t.id}`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('POST', `/api/v1/care/tasks/${t.id}/record`, T.manager_east1, { version: 1, content: 'x' }), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/care/tasks/${t.id}/history`, T.manager_east1), 404, 'not_found');
  for (const q of ['', '?scene=all', `?customer_id=${customer.id}`, `?manager_id=${ME.manager_south1}`]) {
    const l = await ok(await api('GET', `/api/v1/care/tasks${q}${q ? '&' : '?'}view=all&page_size=100`, T.manager_east1));
    assert.ok(!l.items.some((x) => x.id === t.id), q);
  }
  // a task for another's customer: 404 like the customer
  await expectProblem(await api('POST', '/api/v1/care/tasks', T.manager_east1, { customer_id: customer.id, care_type: 'phone', title: 'x', planned_at: '2027-01-01' }), 404, 'not_found');
  // the director of 东 does not see 南's; the administrator does, by manager
  await expectProblem(await api('GET', `/api/v1/care/tasks/${t.id}`, T.director_east), 404, 'not_found');
  const all = await ok(await api('GET', `/api/v1/care/tasks?manager_id=${ME.manager_south1}&view=all&page_size=100`, T.admin));
  assert.ok(all.items.some((x) => x.id === t.id));
});

test('tasks follow the customer: a transfer gives them to the new manager; a deleted customer cancels them, a restore brings them back', async () => {
  const { customer, contact } = await contactBorn('manager_east1', '1970-05-05');
  const t = await ok(await api('POST', '/api/v1/care/tasks', T.manager_east1, { customer_id: customer.id, contact_id: contact.id, care_type: 'visit', title: '拜访', planned_at: '2027-03-01' }), 201);
  await ok(await api('POST', '/api/v1/transfers', T.manager_east1, { customer_ids: [customer.id], to_manager_id: ME.manager_east2, reason: '调岗' }), 201);
  await eventually(async () => (await api('GET', `/api/v1/care/tasks/${t.id}`, T.manager_east2)).status === 200, 20000, 'the task with the new manager');
  assert.equal((await task('manager_east2', t.id)).manager_id, ME.manager_east2);
  await expectProblem(await api('GET', `/api/v1/care/tasks/${t.id}`, T.manager_east1), 404, 'not_found');
  // the customer to the recycle bin: cancelled by the system; restored: pending again
  assert.equal((await api('DELETE', `/api/v1/customers/${customer.id}`, T.manager_east2)).status, 204);
  await eventually(async () => (await task('manager_east2', t.id)).status === 'cancelled', 20000, 'cancelled with its customer');
  assert.equal((await task('manager_east2', t.id)).cancelled_by_system, true);
  await ok(await api('POST', `/api/v1/customers/${customer.id}/restore`, T.admin));
  await eventually(async () => (await task('manager_east2', t.id)).status === 'pending', 20000, 'back with its customer');
  // a deleted contact cancels its tasks
  assert.equal((await api('DELETE', `/api/v1/contacts/${contact.id}`, T.manager_east2)).status, 204);
  await eventually(async () => (await task('manager_east2', t.id)).status === 'cancelled', 20000, 'cancelled with its contact');
});

test('plans: a repeating plan makes its next task when the first is done; a plan by filter makes one task per matching contact', async () => {
  const { contact } = await contactBorn('manager_east1', '1988-08-08');
  const plan = await ok(await api('POST', '/api/v1/care/plans', T.manager_east1, {
    title: '每周回访', care_type: 'revisit', contact_ids: [contact.id], first_at: new Date().toISOString(), repeat: { unit: 'week', every: 1, until: '2099-12-31' },
  }), 201);
  assert.equal(plan.tasks_made, 1);
  assert.equal(plan.status, 'active');
  const first = (await ok(await api('GET', `/api/v1/care/tasks?plan_id=${plan.id}&view=all`, T.manager_east1))).items;
  assert.equal(first.length, 1);
  const r = await ok(await api('POST', `/api/v1/care/tasks/${first[0].id}/complete`, T.manager_east1, { version: first[0].version, content: '回访完成' }));
  assert.equal(r.status, 'done');
  const both = (await ok(await api('GET', `/api/v1/care/tasks?plan_id=${plan.id}&view=all&sort=planned_at&order=asc`, T.manager_east1))).items;
  assert.equal(both.length, 2, 'the next occurrence appeared');
  const gap = Date.parse(both[1].planned_at) - Date.parse(both[0].planned_at);
  assert.ok(Math.abs(gap - 7 * 86400e3) < 3600e3, `a week later: ${gap}`);
  assert.equal(both[1].status, 'pending');
  assert.equal((await ok(await api('GET', `/api/v1/care/plans/${plan.id}`, T.manager_east1))).occurrences, 2);
  // by filter: every key decision maker of level-A customers in my scope
  const a1 = await contactBorn('manager_east1', '01-01', { level: 'a', decision_maker: true });
  const a2 = await contactBorn('manager_east1', '01-02', { level: 'a', decision_maker: false });
  const b1 = await contactBorn('manager_east1', '01-03', { level: 'b', decision_maker: true });
  const south = await contactBorn('manager_south1', '01-04', { level: 'a', decision_maker: true });
  const fp = await ok(await api('POST', '/api/v1/care/plans', T.manager_east1, {
    title: `中秋节问候${sfx}`, care_type: 'holiday', filter: { level: 'a', decision_maker: true }, first_at: '2027-09-15',
  }), 201);
  const ft = (await ok(await api('GET', `/api/v1/care/tasks?plan_id=${fp.id}&view=all&page_size=100`, T.manager_east1))).items;
  const contacts = ft.map((x) => x.contact_id);
  assert.ok(contacts.includes(a1.contact.id));
  assert.ok(!contacts.includes(a2.contact.id), 'not a decision maker');
  assert.ok(!contacts.includes(b1.contact.id), 'not level A');
  assert.ok(!contacts.includes(south.contact.id), 'outside my scope');
  assert.equal(new Set(contacts).size, contacts.length, 'one task per contact');
  assert.equal(fp.tasks_made, ft.length);
  // a contact of another manager named in a plan: a field error
  const p = await expectProblem(await api('POST', '/api/v1/care/plans', T.manager_east1, { title: 'x', care_type: 'phone', contact_ids: [south.contact.id], first_at: '2027-01-01' }), 422, 'validation_failed');
  assert.equal(p.errors[0].field, 'contact_ids[0]');
  const ended = await ok(await api('POST', `/api/v1/care/plans/${plan.id}/end`, T.manager_east1));
  assert.equal(ended.status, 'ended');
  assert.equal(ended.next_at, null);
});
