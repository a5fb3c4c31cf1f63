// Kysely table types of offer applications (014-offer-applications), merged into `Database`.

import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type ApplicationStatus = "pending" | "approved" | "rejected";

export interface OfferApplicationsTable {
  id: string;
  tenant_id: string;
  offer_id: string;
  publisher_id: string;
  status: ColumnType<ApplicationStatus, ApplicationStatus | undefined, ApplicationStatus>;
  message: string | null;
  reason: string | null;
  decided_by: string | null;
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}

export interface ApplicationTables {
  offer_applications: OfferApplicationsTable;
}
