// Entry of the IIFE bundle: exposes `window.AffTrack` and configures itself from the script tag's
// data attributes (`data-endpoint`, `data-attribution-days`, `data-param`).

import { clear, conversion, getClickId, init, type WebConfig } from "./index";

const script = document.currentScript as HTMLScriptElement | null;
const overrides: Partial<WebConfig> = {};
if (script?.dataset.endpoint) overrides.endpoint = script.dataset.endpoint;
if (script?.dataset.attributionDays) overrides.attributionDays = Number(script.dataset.attributionDays) || 30;
if (script?.dataset.param) overrides.param = script.dataset.param;
init(overrides);

(globalThis as unknown as { AffTrack: unknown }).AffTrack = { init, getClickId, conversion, clear };
