package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a.b.c = 1\n[a]\n[[x]]\n[[x]]\n[x.y]\n"))
	f.Add([]byte("[llm.providers]\nx = { models = [[1], {a = 2}, \"${Q:-}\"] }\n"))
	env := mapEnv(map[string]string{"JWT_SECRET": "j", "OPENAI_API_KEY": "o", "ANTHROPIC_API_KEY": "a"})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.toml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, env)
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Load returned %T %v, want *Error", err, err)
		}
		if ce != nil && len(ce.Problems) == 0 {
			t.Fatal("*Error without problems")
		}
	})
}
