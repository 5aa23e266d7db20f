import Testing
import TransportCore
import TransportLWS
import TransportPOSIX

/// The transports every reliability test runs over.
enum TransportKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case posix, lws

    var transport: any Transport {
        switch self {
        case .posix: POSIXTransport()
        case .lws: LWSTransport()
        }
    }

    var testDescription: String { rawValue }
}
