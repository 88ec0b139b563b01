fn main() { eprintln!("m365mon: being assembled"); std::process::exit(3) }
