package ssmemu

// The wire structs of the operations served, as AWS's API reference names
// their members (GetParameter, PutParameter).

type getParameterRequest struct {
	Name           *string `json:"Name"`
	WithDecryption bool    `json:"WithDecryption"`
}

type getParameterResponse struct {
	Parameter parameterWire `json:"Parameter"`
}

type parameterWire struct {
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
	LastModifiedDate float64 `json:"LastModifiedDate"` // epoch seconds
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Version          int64   `json:"Version"`
}

type putParameterRequest struct {
	Name           *string `json:"Name"`
	Value          *string `json:"Value"`
	Type           string  `json:"Type"`
	Description    string  `json:"Description"`
	KeyID          string  `json:"KeyId"`
	Overwrite      bool    `json:"Overwrite"`
	AllowedPattern string  `json:"AllowedPattern"`
	Tags           []tag   `json:"Tags"`
	Tier           string  `json:"Tier"`
	Policies       string  `json:"Policies"`
	DataType       string  `json:"DataType"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type putParameterResponse struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier"`
}
