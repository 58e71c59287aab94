"""Sample .flow programs shared by the parser, formatter and fuzz tests."""

SAMPLES = [
    """// Order workflow
const order = Inputs.order // the order to fulfil
let total = 0

/* a block
   comment */
for (const item of order.items) {
  // leading in loop
  if (item.qty > 0) { total += item.price * item.qty } else if (item.free) continue
  else { total -= 1 }
}
const charge = await Task.run("charge-card", { orderId: order.id, amount: total, currency: "EUR", metadata: { source: 'web', attempt: 1 } })
return { charge, total }
""",
    """const f = (a, b = 2, ...rest) => ({ a, b, rest })
const g = x => { return x ** 2 }
let [p, , q = 3, ...others] = [1, 2, 3, 4, 5];
({ p, q } = { p: 1, q: 2 })
;[p, q] = [q, p]
const s = `total: ${p.toFixed(2)}\\n${ `nested ${q}` }`
const z = (-p) ** 2 + - -q + (p ?? q) || others
do { p-- } while (p > 100)
try { await Timer.delay(10) } catch { } finally { p = 0 }
while (false);
const obj = {"quoted-key": 1, [p + q]: 2, ...others, if: 3}
const w = p ? q : z ? s : obj
const t = typeof w === "string" && !f(g(1))
for (let i = 0, j = 10; i < j; i++) {}
""",
    """let attempts = 0
while (true) {
  attempts += 1
  try {
    const result = await Task.run("flaky", { attempt: attempts })
    if (result.ok) break
  } catch (err) {
    if (attempts >= 3) throw err
    await Timer.delay(attempts * 1_000)
    continue
  }
}
const names = Inputs.users?.map(u => u.name.toUpperCase()).filter(n => n.length > 0) ?? []
for (const key in Inputs) { names.push(key) }
const { a, b: { c = 1 } = {}, ...more } = Inputs.config
return names.length > 0 ? `${names.join(", ")}: ${a}${c}${more}` : null
""",
    """// methods and labels
const api = { total(items, tax = 0) { return items.length + tax }, async charge(o) {
  return await Task.run("charge", o) }, ["on" + "x"](...e) { return e }, "q k"() {}, async: 1 }
outer: for (const a of [1, 2]) { inner: for (;;) { if (a) continue outer; break inner } }
done: { if (api.async) break done
  await api.charge({}) }
const g = () => { const s = "abc"; const n = s.trim(); return [n.toUpperCas(), Math.flor(1), "x".padStart()] }
return api.total([]) + g(Timer.delay(1, 2)) + Mth.max()
""",
]
