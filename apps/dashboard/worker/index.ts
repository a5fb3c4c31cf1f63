// The dashboard worker: Workers Static Assets serve the SPA (dist/, index.html for every unknown
// path); only the paths in `run_worker_first` reach this code, which hands them to the API worker
// through a service binding, so the browser talks to one origin (no CORS, WebSockets included).

interface Env {
  API: { fetch(request: Request): Promise<Response> };
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return env.API.fetch(request);
  },
};
