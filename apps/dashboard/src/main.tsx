// Entry: mounts the app. Pages load on demand so the login route stays small.

import { render } from "preact";
import { App } from "./app";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App />, root);
