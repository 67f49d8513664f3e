package event

import "testing"

func TestDeviceID(t *testing.T) {
	for in, want := range map[string]string{
		" 9F1C2D3E-AAAA-BBBB-CCCC-123456789ABC ": "9f1c2d3e-aaaa-bbbb-cccc-123456789abc",
		"9f1c2d3e-aaaa-bbbb-cccc-123456789abc":   "9f1c2d3e-aaaa-bbbb-cccc-123456789abc",
		"App-Install-ID-42":                      "App-Install-ID-42", // not a UUID: case kept
		"9F1C2D3E-AAAA-BBBB-CCCC-123456789ABZ":   "9F1C2D3E-AAAA-BBBB-CCCC-123456789ABZ",
	} {
		if got := DeviceID(in); got != want {
			t.Errorf("DeviceID(%q) = %q, want %q", in, got, want)
		}
	}
	e := &Event{Device: &Device{AdvertisingID: "9F1C2D3E-AAAA-BBBB-CCCC-123456789ABC", UniqueDeviceID: " 00000000-1111-2222-3333-ABCDEFABCDEF"}}
	Cleanse(e)
	if e.Device.AdvertisingID != "9f1c2d3e-aaaa-bbbb-cccc-123456789abc" || e.Device.UniqueDeviceID != "00000000-1111-2222-3333-abcdefabcdef" {
		t.Fatalf("ingest's cleanse left %+v", e.Device)
	}
}
