// Banco Andes web banking page. Plain JavaScript, no build step. It talks only to
// its own origin (bff-web): the session lives in an HttpOnly cookie the page never
// sees; state-changing calls carry the session's CSRF token in X-CSRF-Token.
"use strict";

const T = {
  "es-PE": {
    skip: "Saltar al contenido", logout: "Cerrar sesión", sections: "Secciones",
    navAccounts: "Mis cuentas", navTransfer: "Transferir", navStatement: "Estado de cuenta",
    accountsTitle: "Mis cuentas", noMovements: "No hay movimientos.", more: "Ver más movimientos",
    transferTitle: "Transferir", from: "Desde la cuenta", to: "Hacia", toOwn: "Una cuenta mía",
    toOther: "Otra cuenta de Banco Andes", toAccount: "Cuenta de destino", toNumber: "Número de cuenta de destino",
    numberHelp: "14 dígitos, sin espacios.", amount: "Monto", amountHelp: "Usa punto para los decimales: 1250.50",
    description: "Descripción (opcional)", descShort: "Descripción", continue: "Continuar", confirmTitle: "Confirma tu transferencia",
    beneficiary: "Titular", limitLeft: "Disponible hoy de tu límite diario",
    stepUpNote: "Es tu primera transferencia a esta cuenta: te enviaremos un código por SMS.",
    code: "Código de 6 dígitos", back: "Volver", confirm: "Confirmar transferencia", operation: "Operación",
    again: "Hacer otra transferencia", statementTitle: "Estado de cuenta", account: "Cuenta", fromDate: "Desde",
    toDate: "Hasta", show: "Ver estado de cuenta", opening: "Saldo inicial", closing: "Saldo final", date: "Fecha",
    detail: "Detalle", balance: "Saldo", footer: "Banco Andes nunca te pedirá tu clave por teléfono, correo ni SMS.",
    hello: (n) => n ? `Hola, ${n}` : "Hola", savings: "Cuenta de ahorros", checking: "Cuenta corriente", accountKind: "Cuenta",
    available: "Disponible", ledger: "Saldo contable", movementsOf: (a) => `Movimientos de ${a}`,
    stale: (t) => `Saldos al ${t}: no pudimos actualizarlos ahora.`, blocked: "Bloqueada",
    otherLang: "English", otherLangLabel: "Change language to English",
    done: "Transferencia realizada", pending: "Transferencia en proceso", failed: "La transferencia no se realizó",
    doneDetail: (a, d) => `Transferiste ${a} a ${d}.`, pendingDetail: "Te avisaremos apenas el banco la confirme.",
    codeSent: (d) => `Te enviamos un código por SMS al ${d}. Ingrésalo para confirmar.`,
    badAmount: "Ingresa un monto válido, por ejemplo 150.00.", badNumber: "Ingresa un número de cuenta de 10 a 20 dígitos.",
    badCode: "Ingresa el código de 6 dígitos que recibiste por SMS.", badDates: "Elige un rango de fechas válido.",
    sameAccount: "La cuenta de origen y la de destino son la misma.", loggedOut: "Cerraste sesión.",
    reasons: {
      INSUFFICIENT_FUNDS: "No tienes saldo suficiente en la cuenta de origen.",
      DAILY_LIMIT_EXCEEDED: (m) => "El monto supera tu límite diario de transferencias." + (m.left ? ` Hoy puedes transferir hasta ${m.left}.` : ""),
      TRANSACTION_LIMIT_EXCEEDED: "El monto supera el máximo permitido por operación.",
      ACCOUNT_BLOCKED: "La cuenta está bloqueada y no puede mover dinero.",
      ACCOUNT_CLOSED: "La cuenta está cerrada.",
      CURRENCY_MISMATCH: "Ambas cuentas deben ser de la misma moneda.",
      SAME_ACCOUNT: "La cuenta de origen y la de destino son la misma.",
      STEP_UP_CODE_INVALID: (m) => "El código no es correcto." + (m.attempts_left ? ` Te quedan ${m.attempts_left} intentos.` : ""),
      STEP_UP_EXPIRED: "El código venció. Vuelve a confirmar para recibir uno nuevo.",
      CUSTOMER_BLOCKED: "Tu usuario no puede hacer operaciones. Llama a nuestra banca telefónica.",
      NOT_FOUND: "No encontramos esa cuenta.",
      VALIDATION_FAILED: "Revisa los datos ingresados.",
      IDEMPOTENCY_MISMATCH: "Esta operación ya se registró con otros datos. Empieza una nueva transferencia.",
      IDEMPOTENCY_IN_PROGRESS: "Tu transferencia aún se está procesando. Espera unos segundos.",
      DEPENDENCY_UNAVAILABLE: "El servicio no está disponible en este momento. Inténtalo en unos minutos.",
      RATE_LIMITED: "Hiciste demasiados intentos. Espera un momento y vuelve a intentarlo.",
      INVALID_TOKEN: "Tu sesión terminó. Vuelve a ingresar.",
      CSRF_TOKEN_INVALID: "Tu sesión cambió en otra pestaña. Recarga la página.",
      unimplemented: "Esta función aún no está disponible.",
      generic: "No pudimos completar la operación. Inténtalo de nuevo.",
    },
  },
  en: {
    skip: "Skip to content", logout: "Sign out", sections: "Sections",
    navAccounts: "My accounts", navTransfer: "Transfer", navStatement: "Statement",
    accountsTitle: "My accounts", noMovements: "No movements.", more: "Show more movements",
    transferTitle: "Transfer", from: "From account", to: "To", toOwn: "One of my accounts",
    toOther: "Another Banco Andes account", toAccount: "Destination account", toNumber: "Destination account number",
    numberHelp: "14 digits, no spaces.", amount: "Amount", amountHelp: "Use a point for decimals: 1250.50",
    description: "Description (optional)", descShort: "Description", continue: "Continue", confirmTitle: "Confirm your transfer",
    beneficiary: "Account holder", limitLeft: "Left of today's limit",
    stepUpNote: "This is your first transfer to this account: we will send you a code by SMS.",
    code: "6-digit code", back: "Back", confirm: "Confirm transfer", operation: "Operation",
    again: "Make another transfer", statementTitle: "Statement", account: "Account", fromDate: "From",
    toDate: "To", show: "Show statement", opening: "Opening balance", closing: "Closing balance", date: "Date",
    detail: "Detail", balance: "Balance", footer: "Banco Andes will never ask for your password by phone, email or SMS.",
    hello: (n) => n ? `Hello, ${n}` : "Hello", savings: "Savings account", checking: "Checking account", accountKind: "Account",
    available: "Available", ledger: "Ledger balance", movementsOf: (a) => `Movements of ${a}`,
    stale: (t) => `Balances as of ${t}: we could not update them right now.`, blocked: "Blocked",
    otherLang: "Español", otherLangLabel: "Cambiar el idioma a español",
    done: "Transfer completed", pending: "Transfer in progress", failed: "The transfer was not made",
    doneDetail: (a, d) => `You transferred ${a} to ${d}.`, pendingDetail: "We will let you know as soon as the bank confirms it.",
    codeSent: (d) => `We sent a code by SMS to ${d}. Enter it to confirm.`,
    badAmount: "Enter a valid amount, for example 150.00.", badNumber: "Enter an account number of 10 to 20 digits.",
    badCode: "Enter the 6-digit code you received by SMS.", badDates: "Choose a valid date range.",
    sameAccount: "The source and destination accounts are the same.", loggedOut: "You signed out.",
    reasons: {
      INSUFFICIENT_FUNDS: "There is not enough balance in the source account.",
      DAILY_LIMIT_EXCEEDED: (m) => "The amount is over your daily transfer limit." + (m.left ? ` Today you can transfer up to ${m.left}.` : ""),
      TRANSACTION_LIMIT_EXCEEDED: "The amount is over the maximum allowed per operation.",
      ACCOUNT_BLOCKED: "The account is blocked and cannot move money.",
      ACCOUNT_CLOSED: "The account is closed.",
      CURRENCY_MISMATCH: "Both accounts must be in the same currency.",
      SAME_ACCOUNT: "The source and destination accounts are the same.",
      STEP_UP_CODE_INVALID: (m) => "The code is not correct." + (m.attempts_left ? ` ${m.attempts_left} attempts left.` : ""),
      STEP_UP_EXPIRED: "The code expired. Confirm again to receive a new one.",
      CUSTOMER_BLOCKED: "Your user cannot make operations. Please call our phone banking.",
      NOT_FOUND: "We could not find that account.",
      VALIDATION_FAILED: "Please check the details you entered.",
      IDEMPOTENCY_MISMATCH: "This operation was already registered with other details. Start a new transfer.",
      IDEMPOTENCY_IN_PROGRESS: "Your transfer is still being processed. Please wait a few seconds.",
      DEPENDENCY_UNAVAILABLE: "The service is not available right now. Please try again in a few minutes.",
      RATE_LIMITED: "Too many attempts. Wait a moment and try again.",
      INVALID_TOKEN: "Your session ended. Please sign in again.",
      CSRF_TOKEN_INVALID: "Your session changed in another tab. Reload the page.",
      unimplemented: "This feature is not available yet.",
      generic: "We could not complete the operation. Please try again.",
    },
  },
};

const $ = (id) => document.getElementById(id);
const state = { lang: "es-PE", csrf: "", accounts: [], movAccount: null, movToken: "", stmt: null, pending: null, idleTimer: 0 };
const t = (k) => T[state.lang][k];

// ---- money: integer minor units, never floats ----------------------------------
const EXP = { PEN: 2, USD: 2, CLP: 0 };
const SYMBOL = { PEN: "S/", USD: "US$" };
function formatMoney(m) {
  if (!m) return "";
  const exp = EXP[m.currency] ?? 2;
  let v = BigInt(m.amountMinor || "0");
  const neg = v < 0n;
  if (neg) v = -v;
  const s = v.toString().padStart(exp + 1, "0");
  const int = s.slice(0, s.length - exp).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = exp ? "." + s.slice(s.length - exp) : "";
  // A no-break space keeps "S/" with its number when a line wraps.
  return `${neg ? "-" : ""}${SYMBOL[m.currency] || m.currency}\u00a0${int}${frac}`;
}
function parseAmount(text, currency) {
  const exp = EXP[currency] ?? 2;
  const s = text.trim().replace(/^S\/\s*/, "");
  const re = exp ? /^(\d{1,12})(?:\.(\d{1,2}))?$/ : /^(\d{1,12})$/;
  const m = re.exec(s);
  if (!m) return null;
  const minor = BigInt(m[1]) * 10n ** BigInt(exp) + BigInt(((m[2] || "") + "00").slice(0, exp) || "0");
  return minor > 0n ? minor.toString() : null;
}

// ---- the API: Connect's JSON protocol over fetch ---------------------------------
class ApiError extends Error {
  constructor(code, reason, meta, challenge) {
    super(reason || code);
    this.code = code; this.reason = reason; this.meta = meta || {}; this.challenge = challenge;
  }
}
async function rpc(method, body, write) {
  const headers = { "Content-Type": "application/json", "Connect-Protocol-Version": "1" };
  if (write) headers["X-CSRF-Token"] = state.csrf;
  let resp;
  try {
    resp = await fetch(`/andes.web.v1.WebService/${method}`, { method: "POST", headers, body: JSON.stringify(body || {}), credentials: "same-origin", cache: "no-store" });
  } catch (e) {
    throw new ApiError("unavailable", "DEPENDENCY_UNAVAILABLE");
  }
  const json = await resp.json().catch(() => ({}));
  if (resp.ok) { armIdleTimer(); return json; }
  let reason = "", meta = {}, challenge = null;
  for (const d of json.details || []) {
    if (d.type === "google.rpc.ErrorInfo" && d.debug) { reason = d.debug.reason; meta = d.debug.metadata || {}; }
    if (d.type === "andes.auth.v1.StepUpChallenge" && d.debug) challenge = d.debug;
  }
  const err = new ApiError(json.code || "unknown", reason, meta, challenge);
  if (err.code === "unauthenticated") { location.assign("/login"); }
  throw err;
}

function reasonText(err) {
  const r = T[state.lang].reasons;
  let msg = err.code === "unimplemented" ? r.unimplemented : r[err.reason] || r.generic;
  if (typeof msg === "function") {
    const meta = Object.assign({}, err.meta);
    if (meta.remaining_minor && meta.currency) meta.left = formatMoney({ amountMinor: meta.remaining_minor, currency: meta.currency });
    msg = msg(meta);
  }
  return msg;
}
function showError(el, err) {
  el.textContent = typeof err === "string" ? err : reasonText(err);
  el.dataset.reason = err.reason || "";
  el.dataset.code = err.code || "";
  el.hidden = false;
}
function clearError(el) { el.hidden = true; el.textContent = ""; el.dataset.reason = ""; el.dataset.code = ""; }

// The server ends idle sessions; the page follows so nobody sees stale balances.
let idleMs = 15 * 60 * 1000;
function armIdleTimer() {
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(() => location.assign("/login"), idleMs + 1000);
}

// ---- language --------------------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const v = t(el.dataset.i18n);
    if (typeof v === "string") el.textContent = v;
  }
  for (const el of document.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  $("lang-toggle").textContent = t("otherLang");
  $("lang-toggle").setAttribute("aria-label", t("otherLangLabel"));
  $("lang-toggle").lang = state.lang === "en" ? "es-PE" : "en";
  $("greeting").textContent = t("hello")(state.givenName);
  renderAccounts();
}

// ---- views -----------------------------------------------------------------------
function show(view) {
  for (const v of ["accounts", "transfer", "statement"]) {
    $(`view-${v}`).hidden = v !== view;
    const tab = $(`nav-${v}`);
    if (v === view) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
  }
  $("notice").hidden = true;
  if (view === "accounts") loadAccounts();
  if (view === "transfer") resetTransfer();
}

function kindLabel(a) {
  return a.kind === "ACCOUNT_KIND_SAVINGS" ? t("savings") : a.kind === "ACCOUNT_KIND_CHECKING" ? t("checking") : t("accountKind");
}
function accountLabel(a) {
  return `${kindLabel(a)} ${a.available ? a.available.currency : ""} · ${a.accountNumber}`;
}

async function loadAccounts() {
  try {
    const r = await rpc("ListAccounts", {});
    state.accounts = r.accounts || [];
    $("stale").hidden = !r.stale;
    if (r.stale) $("stale").textContent = t("stale")(new Date(r.asOf).toLocaleString(state.lang));
    renderAccounts();
    fillAccountSelects();
  } catch (e) {
    if (e.code !== "unauthenticated") { showError($("notice"), e); }
  }
}

function renderAccounts() {
  const ul = $("accounts");
  ul.replaceChildren();
  for (const a of state.accounts) {
    const li = document.createElement("li");
    li.className = "account" + (state.movAccount === a.accountId ? " selected" : "");
    li.dataset.accountId = a.accountId;
    li.dataset.number = a.accountNumber;
    li.dataset.currency = a.available ? a.available.currency : "";
    li.dataset.kind = a.kind;
    const b = document.createElement("button");
    b.type = "button"; b.className = "open";
    b.setAttribute("aria-label", `${accountLabel(a)}. ${t("available")}: ${formatMoney(a.available)}`);
    const kind = el("span", "kind", kindLabel(a) + (a.canTransact ? "" : ` · ${t("blocked")}`));
    const num = el("span", "number", ` ${a.accountNumber}`);
    const avail = el("span", "available", formatMoney(a.available));
    avail.dataset.minor = a.available ? a.available.amountMinor || "0" : "0";
    const ledger = el("span", "ledger", `${t("ledger")}: ${formatMoney(a.ledger)}`);
    b.append(kind, num, avail, ledger);
    b.addEventListener("click", () => openMovements(a));
    li.append(b);
    ul.append(li);
  }
}
function el(tag, cls, text) { const e = document.createElement(tag); e.className = cls; e.textContent = text; return e; }

async function openMovements(a) {
  state.movAccount = a.accountId; state.movToken = "";
  renderAccounts();
  $("movements").replaceChildren();
  $("h-movements").textContent = t("movementsOf")(`${kindLabel(a)} ${a.accountNumber}`);
  $("movements-panel").hidden = false;
  await moreMovements();
  $("movements-panel").scrollIntoView({ block: "nearest" });
}
async function moreMovements() {
  try {
    const r = await rpc("ListMovements", { accountId: state.movAccount, pageSize: 10, pageToken: state.movToken });
    for (const m of r.movements || []) $("movements").append(movementItem(m));
    state.movToken = r.nextPageToken || "";
    $("movements-more").hidden = !state.movToken;
    $("movements-empty").hidden = $("movements").children.length > 0;
  } catch (e) { showError($("notice"), e); }
}
function movementItem(m) {
  const li = document.createElement("li");
  li.className = "movement";
  li.dataset.movementId = m.movementId;
  const left = document.createElement("div");
  left.append(el("div", "desc", m.description || ""), el("div", "when", `${formatDate(m.bookedAt, m.valueDate)}${m.counterparty ? " · " + m.counterparty : ""}`));
  const amt = el("div", "amt", formatMoney(m.amount));
  if (!String(m.amount?.amountMinor || "0").startsWith("-")) amt.classList.add("in");
  amt.dataset.minor = m.amount?.amountMinor || "0";
  li.append(left, amt);
  return li;
}
function formatDate(ts, valueDate) {
  const d = ts ? new Date(ts) : new Date(valueDate + "T12:00:00");
  return d.toLocaleDateString(state.lang, { day: "2-digit", month: "short", year: "numeric" });
}

function fillAccountSelects() {
  for (const id of ["tf-source", "tf-dest-account", "st-account"]) {
    const sel = $(id), keep = sel.value;
    sel.replaceChildren();
    for (const a of state.accounts) {
      if (id === "tf-source" && !a.canTransact) continue;
      const o = document.createElement("option");
      o.value = a.accountId; o.textContent = `${accountLabel(a)} — ${formatMoney(a.available)}`;
      sel.append(o);
    }
    if (keep) sel.value = keep;
  }
  if ($("tf-dest-account").value === $("tf-source").value && $("tf-dest-account").options.length > 1) {
    $("tf-dest-account").selectedIndex = $("tf-source").selectedIndex === 0 ? 1 : 0;
  }
  updateCurrency();
}
function sourceAccount() { return state.accounts.find((a) => a.accountId === $("tf-source").value); }
function updateCurrency() {
  const a = sourceAccount();
  const cur = a && a.available ? a.available.currency : "PEN";
  $("tf-currency").textContent = SYMBOL[cur] || cur;
}

// ---- transfer: form -> confirmation (PreviewTransfer) -> Transfer (+ SMS step-up) ---
function resetTransfer() {
  $("tf-form").hidden = false; $("tf-confirm-panel").hidden = true; $("tf-result").hidden = true;
  $("tf-stepup").hidden = true; $("tf-code").value = "";
  // A new transfer starts from an empty form: nothing of the last one is reused.
  $("tf-amount").value = ""; $("tf-description").value = ""; $("tf-dest-number").value = "";
  $("tf-dest-own").checked = true; onDestMode();
  clearError($("tf-error")); clearError($("tf-confirm-error"));
  state.pending = null;
  if (!state.accounts.length) loadAccounts(); else fillAccountSelects();
  loadBeneficiaries();
}
async function loadBeneficiaries() {
  try {
    const r = await rpc("ListBeneficiaries", { pageSize: 50 });
    const dl = $("tf-beneficiaries");
    dl.replaceChildren();
    for (const b of r.beneficiaries || []) {
      const o = document.createElement("option");
      o.value = b.accountNumber; o.label = `${b.maskedName} (${b.currency})`;
      dl.append(o);
    }
  } catch (e) { /* the list is a convenience; typing the number still works */ }
}
function destinationMode() { return $("tf-dest-other").checked ? "other" : "own"; }
function onDestMode() {
  const other = destinationMode() === "other";
  $("tf-own-row").hidden = other; $("tf-other-row").hidden = !other;
}

async function onContinue(ev) {
  ev.preventDefault();
  const err = $("tf-error");
  clearError(err);
  const src = sourceAccount();
  if (!src) return;
  const currency = src.available ? src.available.currency : "PEN";
  const minor = parseAmount($("tf-amount").value, currency);
  if (!minor) { showError(err, t("badAmount")); $("tf-amount").focus(); return; }
  const req = { sourceAccountId: src.accountId, amount: { amountMinor: minor, currency } };
  let destLabel;
  if (destinationMode() === "own") {
    const d = state.accounts.find((a) => a.accountId === $("tf-dest-account").value);
    if (!d || d.accountId === src.accountId) { showError(err, t("sameAccount")); return; }
    req.destinationAccountId = d.accountId; destLabel = accountLabel(d);
  } else {
    const n = $("tf-dest-number").value.replace(/\s+/g, "");
    if (!/^[0-9]{10,20}$/.test(n)) { showError(err, t("badNumber")); $("tf-dest-number").focus(); return; }
    req.destinationAccountNumber = n;
  }
  const btn = $("tf-continue");
  btn.disabled = true;
  try {
    const p = await rpc("PreviewTransfer", req);
    state.pending = Object.assign({}, req, { idempotencyKey: crypto.randomUUID(), description: $("tf-description").value.trim() });
    $("cf-from").textContent = accountLabel(src);
    $("cf-to").textContent = destLabel || p.destination;
    $("cf-beneficiary").textContent = p.beneficiary || "";
    $("cf-beneficiary").hidden = $("cf-beneficiary-label").hidden = !p.beneficiary;
    $("cf-amount").textContent = formatMoney(req.amount);
    $("cf-description").textContent = state.pending.description || "—";
    $("tf-limit").textContent = formatMoney(p.dailyLimitRemaining);
    $("tf-limit").dataset.minor = p.dailyLimitRemaining ? p.dailyLimitRemaining.amountMinor || "0" : "";
    $("cf-stepup-note").hidden = !p.stepUpRequired;
    $("tf-form").hidden = true; $("tf-confirm-panel").hidden = false;
    clearError($("tf-confirm-error"));
    $("tf-confirm").focus();
  } catch (e) {
    showError(err, e);
  } finally { btn.disabled = false; }
}

async function onConfirm() {
  const err = $("tf-confirm-error");
  clearError(err);
  const req = Object.assign({}, state.pending);
  if (!$("tf-stepup").hidden) {
    const code = $("tf-code").value.trim();
    if (!/^[0-9]{6}$/.test(code)) { showError(err, t("badCode")); $("tf-code").focus(); return; }
    req.stepUp = { challengeId: state.pending.challengeId, code };
  }
  delete req.challengeId;
  const btn = $("tf-confirm");
  btn.disabled = true;
  try {
    const r = await rpc("Transfer", req, true);
    showResult(r.transfer);
  } catch (e) {
    if (e.reason === "STEP_UP_REQUIRED" && e.challenge) {
      state.pending.challengeId = e.challenge.challengeId;
      $("tf-stepup-sent").textContent = t("codeSent")(e.challenge.maskedDestination || "");
      $("tf-stepup").hidden = false; $("cf-stepup-note").hidden = true;
      $("tf-code").focus();
    } else {
      if (e.reason === "STEP_UP_EXPIRED") { $("tf-stepup").hidden = true; $("tf-code").value = ""; }
      showError(err, e);
    }
  } finally { btn.disabled = false; }
}

function showResult(tr) {
  $("tf-confirm-panel").hidden = true;
  const box = $("tf-result"), title = $("tf-result-title");
  box.hidden = false; box.dataset.status = tr.status;
  $("tf-result-id").textContent = tr.transferId;
  title.className = "";
  if (tr.status === "TRANSFER_STATUS_COMPLETED") {
    title.textContent = t("done"); title.className = "ok";
    $("tf-result-detail").textContent = t("doneDetail")(formatMoney(tr.amount), tr.destination);
  } else if (tr.status === "TRANSFER_STATUS_FAILED") {
    title.textContent = t("failed"); title.className = "bad";
    $("tf-result-detail").textContent = reasonText(new ApiError("failed_precondition", tr.failureReason));
  } else {
    title.textContent = t("pending");
    $("tf-result-detail").textContent = t("pendingDetail");
    setTimeout(() => pollTransfer(tr.transferId, 0), 1000);
  }
  box.focus();
  state.accounts = [];
}
async function pollTransfer(id, n) {
  try {
    const r = await rpc("GetTransfer", { transferId: id });
    if (r.transfer.status !== "TRANSFER_STATUS_PENDING" || n > 20) { showResult(r.transfer); return; }
  } catch (e) { /* keep the pending receipt */ }
  setTimeout(() => pollTransfer(id, n + 1), 2000);
}

// ---- statement ---------------------------------------------------------------------
async function onStatement(ev, more) {
  if (ev) ev.preventDefault();
  const err = $("st-error");
  clearError(err);
  const from = $("st-from").value, to = $("st-to").value;
  if (!from || !to || from > to) { showError(err, t("badDates")); return; }
  if (!more) { state.stmt = { accountId: $("st-account").value, fromDate: from, toDate: to, pageToken: "" }; $("st-rows").replaceChildren(); }
  try {
    const r = await rpc("GetStatement", Object.assign({ pageSize: 50 }, state.stmt));
    $("st-opening").textContent = formatMoney(r.openingBalance);
    $("st-closing").textContent = formatMoney(r.closingBalance);
    for (const m of r.movements || []) {
      const tr = document.createElement("tr");
      const cells = [formatDate(m.bookedAt, m.valueDate), m.description + (m.counterparty ? ` · ${m.counterparty}` : ""), formatMoney(m.amount), formatMoney(m.balanceAfter)];
      cells.forEach((c, i) => { const td = document.createElement("td"); td.textContent = c; if (i >= 2) td.className = "num"; tr.append(td); });
      $("st-rows").append(tr);
    }
    state.stmt.pageToken = r.nextPageToken || "";
    $("st-more").hidden = !state.stmt.pageToken;
    $("st-empty").hidden = $("st-rows").children.length > 0;
    $("st-result").hidden = false;
  } catch (e) { showError(err, e); }
}

// ---- start -----------------------------------------------------------------------
async function logout() {
  try {
    await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": state.csrf }, credentials: "same-origin" });
  } finally { location.assign("/login"); }
}
async function toggleLanguage() {
  const next = state.lang === "en" ? "es-PE" : "en";
  try {
    await rpc("SetLanguage", { language: next }, true);
  } catch (e) { showError($("notice"), e); return; }
  state.lang = next;
  applyLanguage();
  fillAccountSelects();
  // Texts built from data (movement dates, titles) are rebuilt in the new language.
  const open = state.accounts.find((a) => a.accountId === state.movAccount);
  if (open && !$("movements-panel").hidden) openMovements(open);
}

function isoDate(d) { return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10); }

async function start() {
  $("nav-accounts").addEventListener("click", () => show("accounts"));
  $("nav-transfer").addEventListener("click", () => show("transfer"));
  $("nav-statement").addEventListener("click", () => show("statement"));
  $("logout").addEventListener("click", logout);
  $("lang-toggle").addEventListener("click", toggleLanguage);
  $("movements-more").addEventListener("click", moreMovements);
  $("tf-form").addEventListener("submit", onContinue);
  $("tf-source").addEventListener("change", updateCurrency);
  $("tf-dest-own").addEventListener("change", onDestMode);
  $("tf-dest-other").addEventListener("change", onDestMode);
  $("tf-confirm").addEventListener("click", onConfirm);
  $("tf-cancel").addEventListener("click", () => { $("tf-confirm-panel").hidden = true; $("tf-form").hidden = false; state.pending = null; });
  $("tf-again").addEventListener("click", resetTransfer);
  $("st-form").addEventListener("submit", (e) => onStatement(e, false));
  $("st-more").addEventListener("click", () => onStatement(null, true));
  const today = new Date();
  $("st-to").value = isoDate(today);
  $("st-from").value = isoDate(new Date(today.getFullYear(), today.getMonth(), 1));
  try {
    const s = await rpc("GetSession", {});
    state.csrf = s.csrfToken; state.lang = s.language === "en" ? "en" : "es-PE"; state.givenName = s.givenName;
    if (s.idleExpiresAt) idleMs = Math.max(60000, new Date(s.idleExpiresAt).getTime() - Date.now());
    armIdleTimer();
  } catch (e) { return; }
  applyLanguage();
  await loadAccounts();
  document.body.dataset.ready = "true";
}
document.addEventListener("DOMContentLoaded", start);
