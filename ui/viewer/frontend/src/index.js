// Fusion Explorer's scan viewer: a Streamlit component (protocol v1, no React) around NiiVue.
//
// Python (ui/viewer/__init__.py) sends a JSON `spec` plus one NIfTI byte string per volume. Each scan
// gets its own NiiVue instance (canvas); one crosshair in physical space links them. NiiVue works in
// RAS world millimetres; Python speaks LPS. The one conversion between them here is `rasLps` below.
import { Niivue, NVImage, SLICE_TYPE } from "@niivue/niivue";

const SLICE_TYPES = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  render: SLICE_TYPE.RENDER,
};
const PLANE_AXIS = { axial: 2, coronal: 1, sagittal: 0, multiplanar: 2, render: 2 };

// ------------------------------------------------------------------ Streamlit protocol (v1)
function post(type, data = {}) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}
const setFrameHeight = (height) => post("streamlit:setFrameHeight", { height });
const setValue = (value) => post("streamlit:setComponentValue", { value, dataType: "json" });

// ------------------------------------------------------------------ geometry
/** LPS <-> RAS (flip x and y; its own inverse). The only place this viewer converts between them. */
const rasLps = (p) => [-p[0], -p[1], p[2]];

/** Continuous (x, y, z) voxel index in the scan's original grid of an LPS point (row-major 4x4). */
function lpsToIndex(m, p) {
  return [0, 1, 2].map((r) => m[4 * r] * p[0] + m[4 * r + 1] * p[1] + m[4 * r + 2] * p[2] + m[4 * r + 3]);
}

function insideScan(panel, lps) {
  const index = lpsToIndex(panel.spec.lps_to_index, lps);
  return index.every((v, i) => v >= -0.5 && v <= panel.spec.size[i] - 0.5);
}

// ------------------------------------------------------------------ state
const state = {
  root: null,
  panels: [], // {spec, nv, div, outside, note}
  key: null,
  layout: "multiplanar",
  radiological: true,
  lps: [0, 0, 0],
  frames: 0,
  clicks: 0,
  active: 0,
  settleTimer: null,
  syncing: false,
};

function publishHooks() {
  const root = state.root;
  const first = state.panels[0];
  if (!root || !first) return;
  const index = lpsToIndex(first.spec.lps_to_index, state.lps).map((v, i) =>
    Math.min(Math.max(Math.round(v), 0), first.spec.size[i] - 1),
  );
  root.dataset.slice = index.join(",");
  root.dataset.positionMm = state.lps.map((v) => v.toFixed(2)).join(",");
  root.dataset.frames = String(state.frames);
  root.dataset.layout = state.layout;
  const label = document.getElementById("fx-cursor");
  if (label) {
    const [l, p, s] = state.lps;
    label.textContent = `L ${l.toFixed(1)} · P ${p.toFixed(1)} · S ${s.toFixed(1)} mm (LPS)`;
  }
}

/** Count every NiiVue draw and refresh the test hooks after it. */
function countDraws(nv) {
  const draw = nv.drawScene.bind(nv);
  nv.drawScene = () => {
    const result = draw();
    state.frames += 1;
    publishHooks();
    return result;
  };
}

// ------------------------------------------------------------------ linking
/** Move every panel's crosshair to the LPS point `lps` (mm), on whatever grid each scan has. */
function moveAll(lps, exceptIndex = -1) {
  state.lps = lps;
  state.syncing = true;
  state.panels.forEach((panel, i) => {
    const inside = insideScan(panel, lps);
    panel.outside.style.display = inside ? "none" : "flex";
    if (i !== exceptIndex) {
      const frac = panel.nv.mm2frac(rasLps(lps));
      panel.nv.scene.crosshairPos = frac.map((v) => Math.min(Math.max(v, 0), 1));
      panel.nv.drawScene();
    }
    // Test hook: where this panel's own crosshair is (LPS mm), and whether the point is in its scan.
    const mm = rasLps(Array.from(panel.nv.frac2mm(panel.nv.scene.crosshairPos)));
    panel.div.dataset.positionMm = mm.map((v) => v.toFixed(2)).join(",");
    panel.div.dataset.inside = String(inside);
  });
  state.syncing = false;
  publishHooks();
}

function onLocation(i) {
  return () => {
    if (state.syncing) return;
    const nv = state.panels[i].nv;
    const lps = rasLps(Array.from(nv.frac2mm(nv.scene.crosshairPos)).slice(0, 3));
    moveAll(lps, i);
    scheduleSettle();
  };
}

/** Report the cursor to Python once the user stops moving it (not on every slice step). */
function scheduleSettle() {
  clearTimeout(state.settleTimer);
  state.settleTimer = setTimeout(() => report(false), 700);
}

function report(clicked) {
  if (clicked) state.clicks += 1;
  setValue({ cursor_mm: state.lps, clicks: state.clicks, clicked: clicked ? state.lps : null, webgl: true });
}

/** One slice step (arrow keys) in the active panel's plane, in that scan's own voxels. */
function step(delta) {
  const panel = state.panels[state.active] || state.panels[0];
  const nv = panel.nv;
  const axis = PLANE_AXIS[state.layout];
  const move = [0, 0, 0];
  move[axis] = delta;
  nv.moveCrosshairInVox(move[0], move[1], move[2]);
}

// ------------------------------------------------------------------ window / level
function setWindow(panel, level, width) {
  const volume = panel.nv.volumes[0];
  volume.cal_min = level - width / 2;
  volume.cal_max = level + width / 2;
  panel.nv.updateGLVolume();
}

function applyPreset(kind, level, width) {
  state.panels.forEach((panel) => {
    if (kind === "CT" ? panel.spec.ct : !panel.spec.ct) setWindow(panel, level, width);
  });
}

function applyPercentile(name) {
  state.panels.forEach((panel) => {
    const w = (panel.spec.percentile_windows || {})[name];
    if (w) setWindow(panel, w[0], w[1]);
  });
}

// ------------------------------------------------------------------ building the page
function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
  if (text) node.textContent = text;
  return node;
}

function button(label, onClick, title = "") {
  const b = el("button", { type: "button", title }, label);
  b.addEventListener("click", onClick);
  return b;
}

function toolbar(spec) {
  const bar = el("div", { class: "fx-toolbar" });
  const layouts = el("span", { class: "fx-group" });
  for (const name of ["axial", "coronal", "sagittal", "multiplanar"]) {
    layouts.appendChild(button(name[0].toUpperCase() + name.slice(1), () => setLayout(name), `${name} view`));
  }
  bar.appendChild(layouts);
  if (state.panels.some((p) => p.spec.ct)) {
    const ct = el("span", { class: "fx-group" }, "CT: ");
    for (const [name, [level, width]] of Object.entries(spec.ct_windows)) {
      ct.appendChild(button(name.split(" (")[0], () => applyPreset("CT", level, width), `window ${name}`));
    }
    bar.appendChild(ct);
  }
  if (state.panels.some((p) => !p.spec.ct && p.spec.percentile_windows)) {
    const mr = el("span", { class: "fx-group" }, "MR: ");
    for (const name of spec.percentile_names) mr.appendChild(button(name, () => applyPercentile(name)));
    bar.appendChild(mr);
  }
  const view = el("span", { class: "fx-group" });
  view.appendChild(button("Zoom +", () => zoom(1.25)));
  view.appendChild(button("Zoom −", () => zoom(0.8)));
  view.appendChild(button("Reset", () => zoom(0)));
  const convention = button("", () => toggleConvention(convention));
  convention.textContent = spec.radiological ? "Radiological" : "Neurological";
  view.appendChild(convention);
  bar.appendChild(view);
  if (state.panels.some((p) => p.spec.layers.length)) {
    const opacity = el("input", { type: "range", min: "0", max: "1", step: "0.05", value: String(spec.opacity) });
    opacity.addEventListener("input", () => setOpacity(Number(opacity.value)));
    const group = el("label", { class: "fx-group" }, "Overlay opacity ");
    group.appendChild(opacity);
    bar.appendChild(group);
  }
  bar.appendChild(el("span", { id: "fx-cursor", class: "fx-cursor" }));
  return bar;
}

function zoom(factor) {
  state.panels.forEach(({ nv }) => {
    const pan = nv.scene.pan2Dxyzmm;
    nv.scene.pan2Dxyzmm = factor === 0 ? [0, 0, 0, 1] : [pan[0], pan[1], pan[2], pan[3] * factor];
    nv.drawScene();
  });
}

function toggleConvention(b) {
  const radiological = b.textContent !== "Radiological";
  b.textContent = radiological ? "Radiological" : "Neurological";
  state.panels.forEach(({ nv }) => nv.setRadiologicalConvention(radiological));
}

function setOpacity(value) {
  state.panels.forEach(({ nv }) => {
    for (let i = 1; i < nv.volumes.length; i++) nv.setOpacity(i, value);
  });
}

function setLayout(name) {
  state.layout = name;
  state.panels.forEach(({ nv }) => nv.setSliceType(SLICE_TYPES[name]));
  publishHooks();
}

async function loadVolume(bytes, name, options) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return NVImage.new(
    buffer,
    `${name}.nii.gz`, // NiiVue picks its reader by the file name
    options.colormap || "gray",
    options.opacity ?? 1,
    null,
    options.cal_min ?? NaN,
    options.cal_max ?? NaN,
    true,
    0.02,
    false,
    false,
    options.colormap_negative || "",
    0,
    undefined,
    NaN,
    NaN,
    options.colorbar ?? false,
  );
}

async function makePanel(spec, args, i, grid, height) {
  const div = el("div", { class: "fx-panel", "data-label": spec.label });
  div.appendChild(el("div", { class: "fx-title" }, spec.label));
  const holder = el("div", { class: "fx-canvas" });
  holder.style.height = `${height}px`;
  const canvas = el("canvas", { "data-panel": String(i) });
  holder.appendChild(canvas);
  const outside = el("div", { class: "fx-outside" }, "outside this scan");
  outside.style.display = "none";
  holder.appendChild(outside);
  div.appendChild(holder);
  div.appendChild(el("div", { class: "fx-note" }, spec.note));
  grid.appendChild(div);

  const nv = new Niivue({
    backColor: [0.16, 0.17, 0.2, 1],
    isRadiologicalConvention: state.radiological,
    isColorbar: spec.layers.length > 0,
    dragAndDropEnabled: false,
    show3Dcrosshair: true,
    crosshairColor: [0.2, 0.9, 0.3, 0.9],
    loadingText: "",
    isResizeCanvas: true,
  });
  countDraws(nv);
  await nv.attachToCanvas(canvas);
  const [level, width] = spec.window;
  const base = await loadVolume(args[spec.bytes], spec.label, { cal_min: level - width / 2, cal_max: level + width / 2 });
  nv.addVolume(base);
  for (const layer of spec.layers) {
    nv.addVolume(await loadVolume(args[layer.bytes], layer.name, { ...layer, colorbar: true }));
  }
  nv.setSliceType(SLICE_TYPES[state.layout]);
  nv.onLocationChange = onLocation(i);
  nv.onMouseUp = () => report(true);
  canvas.addEventListener("pointerenter", () => (state.active = i));
  return { spec, nv, div, outside };
}

function webglAvailable() {
  try {
    return !!document.createElement("canvas").getContext("webgl2");
  } catch {
    return false;
  }
}

async function build(args) {
  const spec = args.spec;
  state.key = spec.key;
  state.layout = spec.layout;
  state.radiological = spec.radiological;
  state.root.replaceChildren();
  state.panels = [];
  if (!webglAvailable()) {
    state.root.appendChild(el("div", { class: "fx-note" }, "This browser has no WebGL 2: showing images instead."));
    setValue({ webgl: false });
    return;
  }
  const grid = el("div", { class: "fx-grid" });
  grid.style.gridTemplateColumns = `repeat(${spec.panels.length}, minmax(0, 1fr))`;
  const height = spec.height;
  const panels = [];
  state.root.appendChild(grid);
  for (let i = 0; i < spec.panels.length; i++) panels.push(await makePanel(spec.panels[i], args, i, grid, height));
  state.panels = panels;
  state.root.insertBefore(toolbar(spec), grid);
  state.root.appendChild(el("div", { class: "fx-help" }, spec.help));
  moveAll(spec.cursor_mm);
  setFrameHeight(document.body.scrollHeight + 8);
}

function onKey(e) {
  const delta = { ArrowUp: 1, ArrowRight: 1, PageUp: 1, ArrowDown: -1, ArrowLeft: -1, PageDown: -1 }[e.key];
  if (delta === undefined || !state.panels.length) return;
  e.preventDefault();
  e.stopPropagation();
  step(delta);
}

/** Follow Streamlit's light or dark theme. */
function applyTheme(theme) {
  if (!theme) return;
  const style = document.documentElement.style;
  style.setProperty("--fx-text", theme.textColor || "#31333f");
  style.setProperty("--fx-button", theme.secondaryBackgroundColor || "#f0f2f6");
  style.setProperty("--fx-accent", theme.primaryColor || "#ff4b4b");
}

let pending = Promise.resolve();
window.addEventListener("message", (event) => {
  const data = event.data;
  if (!data || data.type !== "streamlit:render") return;
  const args = data.args;
  applyTheme(data.theme);
  if (args.spec.key === state.key) return; // same volumes and options: nothing to send to the GPU again
  pending = pending.then(() => build(args)).catch((error) => {
    state.root.replaceChildren(el("div", { class: "fx-error" }, `The viewer could not open these scans: ${error}`));
    setFrameHeight(60);
  });
});

window.fxViewer = { state, moveAll }; // for browser tests and benchmarks

window.addEventListener("DOMContentLoaded", () => {
  state.root = document.getElementById("root");
  state.root.dataset.frames = "0";
  document.addEventListener("keydown", onKey, true);
  post("streamlit:componentReady", { apiVersion: 1 });
});
