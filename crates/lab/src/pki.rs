//! The lab's certificates: a trusted lab CA, the sites' certificate, and the
//! two certificates a TLS-intercepting censor presents.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::LabError;

/// Certificates and server configurations of one lab.
pub(crate) struct Pki {
    /// PEM of the trusted lab CA (what the probe and helper get via `--ca-file`).
    pub ca_pem: String,
    /// DER of the trusted lab CA.
    pub ca_der: CertificateDer<'static>,
    /// PEM of the censor's own, untrusted CA.
    pub untrusted_ca_pem: String,
    /// The real sites' TLS configuration (wildcard certificate for the lab domain).
    pub site: Arc<ServerConfig>,
    /// Interception: same names, trusted lab CA, another key.
    pub other_key: Arc<ServerConfig>,
    /// Interception: same names, the censor's untrusted CA.
    pub untrusted: Arc<ServerConfig>,
}

fn ca(
    common_name: &str,
) -> Result<(CertificateParams, KeyPair, String, CertificateDer<'static>), LabError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "Canary censorship lab");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    Ok((params, key, cert.pem(), cert.der().clone()))
}

fn server_config(
    issuer: &Issuer<'_, KeyPair>,
    issuer_der: &CertificateDer<'static>,
    common_name: &str,
) -> Result<Arc<ServerConfig>, LabError> {
    let key = KeyPair::generate()?;
    let names = vec![
        format!("*.{}", crate::LAB_DOMAIN),
        crate::LAB_DOMAIN.to_owned(),
    ];
    let mut params = CertificateParams::new(names)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, issuer)?;
    let chain = vec![cert.der().clone(), issuer_der.clone()];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl Pki {
    /// Generates fresh keys and certificates (ECDSA P-256, a few milliseconds).
    pub fn generate() -> Result<Pki, LabError> {
        let (ca_params, ca_key, ca_pem, ca_der) = ca("Canary Lab Root CA")?;
        let (bad_params, bad_key, untrusted_ca_pem, bad_der) = ca("Lab Censor Interception CA")?;
        let lab_issuer = Issuer::new(ca_params, ca_key);
        let bad_issuer = Issuer::new(bad_params, bad_key);
        Ok(Pki {
            site: server_config(&lab_issuer, &ca_der, "canary-lab site")?,
            other_key: server_config(&lab_issuer, &ca_der, "canary-lab site")?,
            untrusted: server_config(&bad_issuer, &bad_der, "canary-lab site")?,
            ca_pem,
            ca_der,
            untrusted_ca_pem,
        })
    }
}
