// ClustaarModels: the Clustaar webchat payloads as Codable Swift values. No I/O.
// (Filled by the models issue; see ../shared/CLUSTAAR-PROTOCOL.md.)
