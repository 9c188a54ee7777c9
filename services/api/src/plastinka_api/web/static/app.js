// The shop owner's page: sign in -> upload -> train -> forecast table, charts, order list downloads.
// Data from the API is only ever written with textContent (never innerHTML): a record named
// "<img src=x onerror=alert(1)>" shows as those characters. The key lives in sessionStorage (this tab only);
// the dataset and job ids too, so a reload resumes where the page was (a running job keeps being polled).
"use strict";

(() => {
  const API = "/api/v1";
  const PAGE_SIZE = 50;
  const POLL_MS = 1000;
  const t = (key, params) => I18N.t(key, params);
  const $ = (id) => document.getElementById(id);

  const store = {
    get: (name) => sessionStorage.getItem(`plastinka.${name}`),
    set: (name, value) =>
      value === null ? sessionStorage.removeItem(`plastinka.${name}`) : sessionStorage.setItem(`plastinka.${name}`, value),
  };

  // What is on screen, kept so a language switch can draw it again in the other language.
  const view = {
    dataset: null,
    progress: null,
    accuracy: null,
    records: null,
    recordsUnavailable: false,
    chart: null,
    query: { offset: 0, q: "", sort: "-suggested_order" },
  };

  class ApiFailure extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  // --- the API -----------------------------------------------------------------------------------------

  async function call(path, options = {}) {
    const headers = { Authorization: `Bearer ${store.get("key") || ""}` };
    let body = options.form;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    let response;
    try {
      response = await fetch(path, { method: options.method || "GET", headers, body });
    } catch (error) {
      throw new ApiFailure(0, "network", String(error));
    }
    if (!response.ok) {
      let payload = {};
      try {
        payload = await response.json();
      } catch (error) {
        payload = { message: response.statusText };
      }
      throw new ApiFailure(response.status, payload.error || "http_error", payload.message || "", payload.details);
    }
    return options.raw ? response : response.json();
  }

  function explain(error) {
    if (!(error instanceof ApiFailure)) return t("err_other", { status: "", message: String(error) });
    const key = `err_${error.code}`;
    const known = I18N.t(key) !== key;
    return known ? t(key, { message: error.message }) : t("err_other", { status: error.status, message: error.message });
  }

  function showError(error) {
    $("error-text").textContent = typeof error === "string" ? error : explain(error);
    $("error").hidden = false;
    if (error instanceof ApiFailure && error.status === 401) signOut(false);
  }

  function clearError() {
    $("error").hidden = true;
    $("error-text").textContent = "";
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // --- sign in -----------------------------------------------------------------------------------------

  async function signIn(event) {
    event.preventDefault();
    clearError();
    const key = $("api-key").value.trim();
    if (!key) return;
    store.set("key", key);
    try {
      await call(`${API}/datasets?limit=1`);
    } catch (error) {
      store.set("key", null);
      showError(error);
      return;
    }
    $("api-key").value = "";
    showSignedIn();
  }

  function signOut(reload = true) {
    for (const name of ["key", "dataset", "training", "prediction"]) store.set(name, null);
    if (reload) window.location.reload();
    else {
      $("signin-step").hidden = false;
      for (const id of ["upload-step", "train-step", "results-step", "sign-out"]) $(id).hidden = true;
    }
  }

  function showSignedIn() {
    $("signin-step").hidden = true;
    $("sign-out").hidden = false;
    $("upload-step").hidden = false;
  }

  // --- upload ------------------------------------------------------------------------------------------

  function wireDrop(dropId, inputId, nameId) {
    const drop = $(dropId);
    const input = $(inputId);
    const show = () => {
      $(nameId).textContent = input.files.length ? input.files[0].name : "";
    };
    input.addEventListener("change", show);
    drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  }

  async function upload(event) {
    event.preventDefault();
    clearError();
    const sales = $("sales-file").files[0];
    if (!sales) {
      showError(t("no_sales_file"));
      return;
    }
    const form = new FormData();
    form.append("file", sales, sales.name);
    const stock = $("stock-file").files[0];
    if (stock) form.append("stock_file", stock, stock.name);
    $("upload-button").disabled = true;
    $("upload-busy").hidden = false;
    try {
      const dataset = await call(`${API}/datasets`, { method: "POST", form });
      store.set("dataset", dataset.id);
      for (const name of ["training", "prediction"]) store.set(name, null);
      view.accuracy = null;
      view.records = null;
      view.chart = null;
      $("results-step").hidden = true;
      $("accuracy").hidden = true;
      $("progress-block").hidden = true;
      showDataset(dataset);
    } catch (error) {
      showError(error);
    } finally {
      $("upload-button").disabled = false;
      $("upload-busy").hidden = true;
    }
  }

  function showDataset(dataset) {
    view.dataset = dataset;
    renderReport();
    $("train-step").hidden = false;
  }

  function li(text) {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }

  function renderReport() {
    const dataset = view.dataset;
    if (!dataset) return;
    const r = dataset.report;
    const facts = [t("fact_file", { name: dataset.filename })];
    if (dataset.stock_filename) facts.push(t("fact_stock", { name: dataset.stock_filename }));
    facts.push(t("fact_items", { n: I18N.number(r.items, 0) }));
    facts.push(t("fact_copies", { n: I18N.number(r.copies_sold, 0) }));
    if (r.copies_returned) facts.push(t("fact_returned", { n: I18N.number(r.copies_returned, 0) }));
    if (r.period_start && r.period_end) {
      facts.push(t("fact_period", { from: I18N.date(r.period_start, true), to: I18N.date(r.period_end, true) }));
      // The page trains monthly: say when the file's last month is cut short (left out of training, forecast).
      const partial = (r.partial_last_period || {}).M;
      if (partial) facts.push(t("fact_partial", { from: I18N.date(partial, true), to: I18N.date(r.period_end, true) }));
    }
    facts.push(t("fact_rows", { read: I18N.number(r.rows_read, 0), used: I18N.number(r.rows, 0) }));
    if (r.stocked_items !== null && r.stocked_items !== undefined) {
      facts.push(t("fact_stocked", { n: I18N.number(r.stocked_items, 0) }));
    }
    if (r.repaired) facts.push(t("fact_repaired", { n: I18N.number(r.repaired, 0) }));
    if (r.dropped) facts.push(t("fact_dropped", { n: I18N.number(r.dropped, 0) }));
    if (!r.repaired && !r.dropped && !(r.warnings || []).length) facts.push(t("fact_clean"));
    $("report-facts").replaceChildren(...facts.map(li));

    const kinds = Object.entries(r.issue_kinds || {}).sort((a, b) => b[1] - a[1]);
    const items = [...(r.warnings || []).map((w) => li(`${t("action_warning")}: ${w}`))];
    for (const [kind, count] of kinds.slice(0, 20)) {
      const split = kind.indexOf(": ");
      const action = split > 0 ? kind.slice(0, split) : "";
      const reason = split > 0 ? kind.slice(split + 2) : kind;
      const word = I18N.t(`action_${action}`) !== `action_${action}` ? t(`action_${action}`) : action;
      items.push(li(`${word ? `${word}: ` : ""}${reason} — ${t("rows_n", { n: I18N.number(count, 0) })}`));
    }
    if (kinds.length > 20) items.push(li(t("fact_more", { n: kinds.length - 20 })));
    $("report-issues").replaceChildren(...items);
    $("report-issues-block").hidden = items.length === 0;
    $("report").hidden = false;
  }

  // --- train and predict -------------------------------------------------------------------------------

  function stageWords(kind, status) {
    if (status.status === "queued" || status.status === "dispatched") return t("stage_queued");
    if (status.status === "retry_wait") return t("stage_retry");
    if (status.status === "succeeded") return t("stage_done");
    if (kind === "prediction") return t("stage_predicting");
    const p = status.progress || 0;
    if (p < 0.05) return t("stage_reading");
    if (p < 0.7) return t("stage_training");
    if (p < 0.9) return t("stage_checking");
    return t("stage_saving");
  }

  function renderProgress() {
    const state = view.progress;
    if (!state) return;
    $("progress-block").hidden = false;
    // Training fills the bar to 90 %, the prediction the rest: one bar for the one thing the owner asked for.
    const own = state.status.progress || (state.status.status === "succeeded" ? 1 : 0);
    const percent = state.kind === "training" ? own * 90 : 90 + own * 10;
    $("progress").value = Math.round(percent);
    $("progress-text").textContent = `${Math.round(percent)} % — ${stageWords(state.kind, state.status)}`;
  }

  async function follow(jobId, kind) {
    for (;;) {
      const status = await call(`${API}/status/${encodeURIComponent(jobId)}`);
      view.progress = { kind, status };
      renderProgress();
      if (status.status === "succeeded") return status;
      if (["failed", "cancelled", "dead_letter"].includes(status.status)) {
        throw new ApiFailure(409, "job_failed", status.error || status.status);
      }
      await sleep(POLL_MS);
    }
  }

  async function train(event) {
    event.preventDefault();
    clearError();
    const horizon = Number($("horizon").value);
    $("train-button").disabled = true;
    try {
      const job = await call(`${API}/training`, {
        method: "POST",
        json: { dataset_id: store.get("dataset"), horizon },
      });
      store.set("training", job.job_id);
      store.set("prediction", null);
      $("results-step").hidden = true;
      $("accuracy").hidden = true;
      await runFrom("training");
    } catch (error) {
      failed(error);
    } finally {
      $("train-button").disabled = false;
    }
  }

  function failed(error) {
    if (error instanceof ApiFailure && error.code === "job_failed") showError(t("job_failed", { message: error.message }));
    else showError(error);
  }

  /** Continue the flow from a stored job: wait for training, show its accuracy, predict, show the results. */
  async function runFrom(stage) {
    const trainingJob = store.get("training");
    if (stage === "training" && trainingJob) {
      await follow(trainingJob, "training");
      const result = await call(`${API}/results/${encodeURIComponent(trainingJob)}`);
      view.accuracy = result;
      renderAccuracy();
      if (!store.get("prediction")) {
        const job = await call(`${API}/prediction`, { method: "POST", json: { model_id: result.model_id } });
        store.set("prediction", job.job_id);
      }
    } else if (trainingJob) {
      view.accuracy = await call(`${API}/results/${encodeURIComponent(trainingJob)}`);
      renderAccuracy();
    }
    const predictionJob = store.get("prediction");
    if (!predictionJob) return;
    await follow(predictionJob, "prediction");
    $("results-step").hidden = false;
    view.query.offset = 0;
    await loadRecords();
    await openChart(null);
  }

  function renderAccuracy() {
    const result = view.accuracy;
    if (!result) return;
    const summary = (result.metrics && result.metrics.backtest) || {};
    const rows = result.backtest || [];
    const ours = rows.find((row) => row.method === "lightgbm") || rows[0];
    const simple = rows.find((row) => row.method === "window_average");
    const months = (summary.windows || 0) * (summary.horizon || 0);
    let text;
    if (!ours || ours.mae === null || ours.mae === undefined || !months) text = t("accuracy_none");
    else if (simple && simple.mae !== null && simple.mae !== undefined) {
      text = t("accuracy_text", { months, model: I18N.number(ours.mae, 2), baseline: I18N.number(simple.mae, 2) });
    } else text = t("accuracy_text_model_only", { months, model: I18N.number(ours.mae, 2) });
    // An export taken mid-month: say that its last month was left out of training and is forecast instead.
    const partial = result.metrics && result.metrics.metrics && result.metrics.metrics.partial_period;
    if (partial && partial.period && partial.last_sale) {
      text += ` ${t("partial_note", {
        period: I18N.date(partial.period, true),
        last_sale: I18N.date(partial.last_sale, true),
        days: partial.days_covered,
        period_days: partial.period_days,
      })}`;
    }
    $("accuracy").textContent = text;
    $("accuracy").hidden = false;
  }

  // --- the forecast table ------------------------------------------------------------------------------

  const SORTABLE = { artist: "col_artist", album: "col_album", barcode: "col_barcode", stock: "col_stock" };

  async function loadRecords() {
    const job = store.get("prediction");
    const q = view.query;
    const params = new URLSearchParams({ offset: q.offset, limit: PAGE_SIZE, sort: q.sort });
    if (q.q) params.set("q", q.q);
    try {
      view.records = await call(`${API}/results/${encodeURIComponent(job)}/records?${params}`);
      view.recordsUnavailable = false;
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404 && !/job/i.test(error.message)) {
        view.records = null;
        view.recordsUnavailable = true;
      } else throw error;
    }
    renderRecords();
  }

  function sales(value) {
    // Under 10 copies a tenth matters ("0,4"), above it whole copies read better.
    return I18N.number(value, Math.abs(value) < 10 ? 1 : 0);
  }

  /** The barcode as the shop wrote it; a record without one is named by an internal "a:artist|album|type" key,
   * which means nothing to a person: a dash instead. */
  function barcodeText(row) {
    const code = row.barcode || "";
    return !code || code.startsWith("a:") ? "—" : code;
  }

  function headerCell(label, sortKey) {
    const th = document.createElement("th");
    if (!sortKey) {
      th.textContent = label;
      return th;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.dataset.sort = sortKey;
    const current = view.query.sort.replace(/^-/, "");
    const arrow = current === sortKey ? (view.query.sort.startsWith("-") ? " ↓" : " ↑") : "";
    button.textContent = label + arrow;
    button.addEventListener("click", () => {
      const descending = current === sortKey ? !view.query.sort.startsWith("-") : ["stock", "total_mean", "suggested_order"].includes(sortKey);
      view.query.sort = (descending ? "-" : "") + sortKey;
      view.query.offset = 0;
      loadRecords().catch(showError);
    });
    th.append(button);
    return th;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderRecords() {
    const note = $("table-note");
    if (view.recordsUnavailable) {
      note.textContent = t("table_unavailable");
      note.hidden = false;
      $("records").hidden = true;
      $("results-summary").textContent = "";
      for (const id of ["prev-page", "next-page"]) $(id).disabled = true;
      $("page-info").textContent = "";
      return;
    }
    const page = view.records;
    if (!page) return;
    $("records").hidden = false;
    const months = page.cover_months || page.periods.length;
    let summary = t("results_summary", {
      total: I18N.number(page.total, 0),
      months,
      level: Math.round((page.service_level || 0.8) * 100),
    });
    if (typeof page.low_level === "number" && typeof page.high_level === "number") {
      summary += ` ${t("range_note", { share: Math.round((page.high_level - page.low_level) * 100) })}`;
    }
    $("results-summary").textContent = summary;
    const head = [
      headerCell(t("col_artist"), "artist"),
      headerCell(t("col_album"), "album"),
      headerCell(t("col_barcode"), "barcode"),
      headerCell(t("col_stock"), "stock"),
      ...page.periods.map((p) => headerCell(t("col_month", { month: I18N.date(p) }))),
      headerCell(t("col_total"), "total_mean"),
      headerCell(t("col_order"), "suggested_order"),
    ];
    $("records-head").replaceChildren(...head);
    const rows = page.rows.map((row) => {
      const tr = document.createElement("tr");
      tr.tabIndex = 0;
      tr.dataset.item = row.item_id;
      tr.append(cell(row.artist || "", "text"), cell(row.album || "", "text"), cell(barcodeText(row), "code"));
      tr.append(cell(row.stock === null || row.stock === undefined ? "—" : I18N.number(row.stock, 0), "num"));
      page.periods.forEach((_, i) => {
        const td = cell(sales(row.mean[i]), "num");
        const range = document.createElement("span");
        range.className = "range";
        const low = Math.floor(row.low[i]);
        const high = Math.ceil(row.high[i]);
        range.textContent = `${I18N.number(low, 0)}–${I18N.number(high, 0)}`;
        range.title = t("range_hint", { low, high });
        td.append(range);
        tr.append(td);
      });
      tr.append(cell(sales(row.total_mean), "num"), cell(I18N.number(row.suggested_order, 0), "num order"));
      const open = () => openChart(row.item_id).catch(showError);
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", (event) => {
        if (event.key === "Enter") open();
      });
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell(t("nothing_found"));
      td.colSpan = head.length;
      tr.append(td);
      rows.push(tr);
    }
    $("records-body").replaceChildren(...rows);
    note.textContent = t("chart_open");
    note.hidden = false;
    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    const current = Math.floor(page.offset / PAGE_SIZE) + 1;
    $("page-info").textContent = t("page_info", { page: current, pages, total: I18N.number(page.total, 0) });
    $("prev-page").disabled = page.offset <= 0;
    $("next-page").disabled = page.offset + PAGE_SIZE >= page.total;
  }

  function turnPage(delta) {
    view.query.offset = Math.max(0, view.query.offset + delta * PAGE_SIZE);
    loadRecords().catch(showError);
  }

  let searchTimer = null;
  function search() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      view.query.q = $("search").value.trim();
      view.query.offset = 0;
      loadRecords().catch(showError);
    }, 300);
  }

  // --- charts ------------------------------------------------------------------------------------------

  async function openChart(itemId) {
    const job = store.get("prediction");
    const params = itemId === null ? "" : `?${new URLSearchParams({ item_id: itemId })}`;
    view.chart = await call(`${API}/results/${encodeURIComponent(job)}/series${params}`);
    renderChart();
    if (itemId !== null) $("chart-block").scrollIntoView({ block: "nearest" });
  }

  function renderChart() {
    const data = view.chart;
    if (!data) return;
    $("chart-title").textContent = data.item_id === null ? t("chart_total") : data.title;
    const x = data.frequency === "W" ? t("axis_x_week") : t("axis_x_month");
    FanChart.draw($("chart"), data, { x, y: t("axis_y") });
    const legend = [
      ["history", "legend_history"],
      ["median", "legend_median"],
      ["band", "legend_range"],
      ["mean", "legend_mean"],
    ].map(([kind, key]) => {
      const item = li(t(key));
      item.className = `legend-${kind}`;
      return item;
    });
    $("chart-legend").replaceChildren(...legend);
    $("chart-block").hidden = false;
  }

  // --- downloads ---------------------------------------------------------------------------------------

  async function download(kind) {
    clearError();
    const job = store.get("prediction");
    const lang = I18N.lang;
    const format = kind === "csv" ? "csv" : "xlsx";
    const path =
      kind === "forecast"
        ? `${API}/results/${encodeURIComponent(job)}?format=xlsx&lang=${lang}`
        : `${API}/results/${encodeURIComponent(job)}/orders?format=${format}&lang=${lang}`;
    const stem = kind === "forecast" ? (lang === "ru" ? "прогноз" : "forecast") : lang === "ru" ? "заказ" : "order";
    try {
      const response = await call(path, { raw: true });
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${stem}-${job}.${format}`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      showError(error);
    }
  }

  // --- start -------------------------------------------------------------------------------------------

  function rerender() {
    I18N.apply(document);
    renderReport();
    renderProgress();
    renderAccuracy();
    renderRecords();
    renderChart();
  }

  async function resume() {
    const datasetId = store.get("dataset");
    if (!datasetId) return;
    showDataset(await call(`${API}/datasets/${encodeURIComponent(datasetId)}`));
    $("train-button").disabled = true; // a job picked up again must not be submitted twice
    try {
      if (store.get("prediction")) await runFrom("prediction");
      else if (store.get("training")) await runFrom("training");
    } finally {
      $("train-button").disabled = false;
    }
  }

  function start() {
    I18N.apply(document);
    $("lang-switch").addEventListener("click", () => {
      I18N.setLang(I18N.lang === "ru" ? "en" : "ru");
      rerender();
    });
    $("sign-out").addEventListener("click", () => signOut(true));
    $("error-close").addEventListener("click", clearError);
    $("signin-form").addEventListener("submit", signIn);
    $("upload-form").addEventListener("submit", upload);
    $("train-form").addEventListener("submit", train);
    wireDrop("sales-drop", "sales-file", "sales-name");
    wireDrop("stock-drop", "stock-file", "stock-name");
    $("search").addEventListener("input", search);
    $("prev-page").addEventListener("click", () => turnPage(-1));
    $("next-page").addEventListener("click", () => turnPage(1));
    $("total-chart").addEventListener("click", () => openChart(null).catch(showError));
    $("download-xlsx").addEventListener("click", () => download("xlsx"));
    $("download-csv").addEventListener("click", () => download("csv"));
    $("download-forecast").addEventListener("click", () => download("forecast"));
    if (store.get("key")) {
      showSignedIn();
      resume().catch(failed);
    }
  }

  start();
})();
