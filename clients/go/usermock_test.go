// usermock as a Testcontainers container for Go tests. Copy into your
// module's tests; needs github.com/testcontainers/testcontainers-go and
// Docker. Not run in usermock's own CI (no Docker engine there): the admin
// paths it uses are checked against the admin OpenAPI document instead.
package usermock_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

const sessionHeader = "X-Usermock-Session"

// startUsermock starts the published image and returns its root URL.
func startUsermock(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	container, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        "ghcr.io/usermock/usermock:0.1",
			ExposedPorts: []string{"8080/tcp"},
			// Ready once it prints its listening line.
			WaitingFor: wait.ForLog("usermock listening on"),
		},
		Started: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = container.Terminate(ctx) })
	endpoint, err := container.PortEndpoint(ctx, "8080/tcp", "http")
	if err != nil {
		t.Fatal(err)
	}
	return endpoint
}

// apiBase is the base URL a client of the vendor gets.
func apiBase(t *testing.T, root, vendor string) string {
	t.Helper()
	response, err := http.Get(root + "/__admin/health")
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var health struct {
		APIBases map[string]string `json:"api_bases"`
	}
	if err := json.NewDecoder(response.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	return root + health.APIBases[vendor]
}

func admin(t *testing.T, root, session, path, body string) string {
	t.Helper()
	request, _ := http.NewRequest(http.MethodPost, root+path, strings.NewReader(body))
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set(sessionHeader, session)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer map[string]any
	_ = json.NewDecoder(response.Body).Decode(&answer)
	if response.StatusCode/100 != 2 {
		t.Fatalf("%s answered %d: %v", path, response.StatusCode, answer)
	}
	return fmt.Sprint(answer["count"])
}

func TestAssigningDepartmentsSendsOnePatch(t *testing.T) {
	root := startUsermock(t)
	session := "go-" + t.Name()
	base := apiBase(t, root, "activity") // http://HOST:PORT/activity/v2
	request, _ := http.NewRequest(http.MethodPatch,
		base+"/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b",
		strings.NewReader(`{"departments":[]}`))
	request.Header.Set("Authorization", "Bearer activity-admin")
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set(sessionHeader, session)
	if _, err := http.DefaultClient.Do(request); err != nil {
		t.Fatal(err)
	}
	if got := admin(t, root, session, "/__admin/requests/count", `{"vendor":"activity","method":"PATCH"}`); got != "1" {
		t.Fatalf("PATCH count %s", got)
	}
	admin(t, root, session, "/__admin/reset", "{}")
}
