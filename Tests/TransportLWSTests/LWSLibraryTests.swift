import Testing
import TransportLWS

@Test func linksTheDebianLibrary() {
    #expect(LWSLibrary.version.hasPrefix("4."))
    #expect(LWSLibrary.writeHeadroom >= 16)
}
