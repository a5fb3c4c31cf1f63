export * from "./advertisers";
export * from "./common";
export * from "./fields";
export * from "./ingestion";
