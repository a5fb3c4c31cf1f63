// Public surface of the local stack: stand-ins for Upstash and Neon that the dev CLI and tests start.
export * from "./embedded-postgres";
export * from "./neon-bridge";
export * from "./neon-http";
export * from "./upstash-gateway";
