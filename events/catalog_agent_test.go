package events

import "testing"

func TestAgentStreams(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"agent", AgentStream("acme", "writer"), "agent-acme:writer"},
		{"run", AgentRunStream("acme", "r1"), "agentrun-acme:r1"},
		{"tenant view", TenantStream("acme", "agentrun-r1"), "agentrun-acme:r1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
			if err := ValidateStream(c.got); err != nil {
				t.Error(err)
			}
		})
	}
}
