/*
 * check_hostkey.c - host key and signature blobs (hostkey.c) and the
 * public-key seam under them (crypto/pk.c).
 *
 * Test vectors.  One throwaway key of each type was made with OpenSSH
 * 9.2's ssh-keygen (ed25519; ecdsa 256, 384, 521; rsa 2048, 3072 and
 * 16384 bits), and each signed msg_hex with `ssh-keygen -Y sign -n file`.
 * Such an SSHSIG signature (OpenSSH PROTOCOL.sshsig) holds an ordinary SSH
 * signature blob, kept below, over this signed data, which the tests
 * rebuild:
 *
 *	byte[6]	"SSHSIG"
 *	string	namespace ("file")
 *	string	reserved ("")
 *	string	hash_algorithm ("sha512")
 *	string	H(message) (SHA-512 of msg_hex)
 *
 * ssh-keygen signs with rsa-sha2-512 for RSA keys.  The rsa2048 key also
 * signed the same data with `openssl dgst -sha1 -sign` and `-sha256`
 * (bare PKCS#1 v1.5 signatures, for ssh-rsa and rsa-sha2-256), and its
 * private values are here so that our signer can be checked byte for
 * byte: RSASSA-PKCS1-v1_5 is deterministic.  The ECDSA private scalars
 * are here for sign/verify round trips.  modp2048_p is the 2048-bit MODP
 * prime of RFC 3526 §3 (group14), and the generators of the NIST curves
 * are from `openssl ecparam -param_enc explicit`.
 *
 * Mutation tests: every 1-bit flip and every truncation of each key blob
 * and signature blob must be refused (sampled for the 16384-bit key,
 * whose every verification costs about ten milliseconds).  Run under
 * ASan/UBSan.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libssh2.h"

#include "buf.h"
#include "crypto/crypto.h"
#include "crypto/pk.h"
#include "hostkey.h"

/* ---- vectors ------------------------------------------------------------ */

static const char msg_hex[] =
	"736674706d6e7420686f73746b6579207465737420766563746f720a";
static const char ed25519_key[] =
	"0000000b7373682d6564323535313900000020141976c1ab18c00bcbc9f92c3f"
	"2ce20f50993fd337d0bea845c5c65bdd3ddaae";
static const char ed25519_sig[] =
	"0000000b7373682d6564323535313900000040443eed879ffdccdbda9096e5db"
	"355cff74a0a2dd0c03ad2fc97a7490ef3128e290f079393091d68b3329190955"
	"53d771eb1581a0a630bdf8c39ab5cd105ee102";
static const char ecdsa256_key[] =
	"0000001365636473612d736861322d6e69737470323536000000086e69737470"
	"323536000000410477be722df98a8676d4b113a9eb2f2017476dbf36f4cf411c"
	"2554278cf621b3a617029740193b3d0545255aa3289fed26182c95b491f3f383"
	"7c317ae0e692417a";
static const char ecdsa256_sig[] =
	"0000001365636473612d736861322d6e697374703235360000004a0000002100"
	"c2f5ad8c0477b49406df58e57de706982310715ebd24e019fed01b09991be455"
	"0000002100920b8afd1252ba6d90f2729dd989d98d1db8d8d9a043438d9b3861"
	"71e48fed04";
static const char ecdsa384_key[] =
	"0000001365636473612d736861322d6e69737470333834000000086e69737470"
	"3338340000006104787710c29cc41e601273f1564045fce2db2c9ecb73ce6587"
	"f85cf43c34909fa53c60ba2562ce24c3191a41ab648ccbf743651c7611e3d706"
	"2901ea986e7ec9e1f830051333fb2c12ced17a828835973a4804efef76bfec59"
	"7990f675c7d9cf53";
static const char ecdsa384_sig[] =
	"0000001365636473612d736861322d6e69737470333834000000690000003016"
	"e7baa83bd47ba150f700cd01ae0868994e60aba40dd7fdcc3a2294b3a39beb3e"
	"80ca1a02fb610f5fba7a62124dae700000003100b108ab3c09ce746002658237"
	"adef95985b9704f2280dbefbd5e34f2a873cde150eb7109e5ad67d963e6aab46"
	"f8467513";
static const char ecdsa521_key[] =
	"0000001365636473612d736861322d6e69737470353231000000086e69737470"
	"3532310000008504006544bad7b04096f0e2b83611785e330d883e3672f4b7a4"
	"2e554d340f7366ce306c7987e7838cbaa996ce6574c8b70fc7029825984b5ae3"
	"eb9d225972a55bedd62101263dd787713eaf73e92d641e2cd5e938f05432a8b5"
	"406e758966d2bf72bbaae1d27d3ad6e797a3ef54ac442f74ba2cfaad357cd9d4"
	"3121295d4f47c89275452e62";
static const char ecdsa521_sig[] =
	"0000001365636473612d736861322d6e697374703532310000008b0000004178"
	"5cb773b7d9aa0940e2ad98dae0be638723a469b59f40dbc3224b013869b7d040"
	"16e7785af4a9f3a2d9bacede472efe30291515cb2fe622d81a7aeeebeb6a43f5"
	"0000004201975aad88e7126a2e0bdf352342588a95a577d9f03d73e0a558ecde"
	"b160292189e63d3639170d17a4588766164f1a960a29d46983bb36ea0008b341"
	"d9d497f756f6";
static const char rsa2048_key[] =
	"000000077373682d727361000000030100010000010100b7757192d8744a2928"
	"7db65e556b906605c16a0eee79b02cd89ed06e35444f14bb308cdc44fedcc374"
	"292af62f4210d8da40197b6d49508d0d67b0a5faf39b37777b6e5dd6a194550a"
	"8c222d8d830e368e113b4337baa52c68889b8419e45fc5a585ec3a88ca0c40d4"
	"6b5739c97a9891d9131de37375f07c88ea0605b4fc08d289d0adead243e560dc"
	"06ea24e47c03f3d5f3ca1d96bd783c226a71c8179609bc3cd1f325caf6de8768"
	"81bb358546e185679d11057b27b85ab8ba1217246fe6b20d4b28d335d285a2de"
	"32b7afd4a476e44a5ca9606fdfb684189a4ef1b5c56f14a3cd5cc9e21534fd3f"
	"11d5d796945390adffae2a259e9098a700c720d1c59167";
static const char rsa2048_sig[] =
	"0000000c7273612d736861322d3531320000010033fa8eb4fe0b2644120a5341"
	"9c10212ab55ee693b3b0a0b125c1bf1a60e48c43c0d7607773b5ef937ad0dd4c"
	"3035647909ebb002cede1ab136b205de7fc1e1b01daa02cbdcfe14d2aab9dd63"
	"a7704b838c50b4d0eb39e46c0077c5ed235c6a7cb791b4e0620e20cf8c44d919"
	"bbc4a705c90d4de825a564e25662bdaafd7973f3470639b2c93483bc7e49a258"
	"3a54e22adf5a16fca73fb70fadf2635baa0061e22a299893b05df3a40e3db4fa"
	"308f3bf0644883926ede320054e37d597be58672f3d99a6a86345512ed2c6e71"
	"849d21ce0559fc4f87f51aaa2b47f3ec0aae84e4520c98cad48192bfd28a0d72"
	"1be186098c2becc447b68b28b6cbb084d6126ade";
static const char rsa3072_key[] =
	"000000077373682d727361000000030100010000018100b589316d405c263b8d"
	"46f87f7b9f401a52998749b2266142fdc8567658ab6ce8fbb181a33ad23b9bff"
	"c27583f855b8fa54139de486342ded70df394ee15f6e08574e8b43cd599dc7a8"
	"e791dc55b778e49f009d007b36ff1a367daf4db5c788e718679e3a01aefd25ee"
	"f589ccfb1f8ce5fbd07503ed294435c73e6a731920a5c42b6fbde943af62a82a"
	"48a5f7229174821f0fd7790d13f20f23890b636f1890fa85d27430a7b63236b0"
	"c757376f7fe88cb927aef63700ced9451b19752373c5257618ca7b13616fefeb"
	"48dc55e27c2d2cf254d5bd78554827f935623c5429d2b348138ee424e6f79ee4"
	"476f82fb9067ccd437bdaa200c8d51e7c796d680f4c658c0df9d88dedbf4b1e9"
	"4d6e62ae7e24a7063116b42c782e4f22a23aec76165ac9b6abdbb093131dacf1"
	"72d34ff951f30bfaafec3febb4c6c2f15b991e4bded940b80a3fb348849d50ed"
	"10467a0cb9d5948ba99cf81231abb193d6486ba6b5d806b64e08cf80538ac4ea"
	"7b1e97306f6596d216ca4946a9d13f3712314cc3dbe4c1";
static const char rsa3072_sig[] =
	"0000000c7273612d736861322d3531320000018072d07aa6a1bee2a4eae95e19"
	"b3448e592eecfe8324330bb8104dac3250597940051f57a97e42c48b67d20f3b"
	"58f1edbd68175ce39200bc68c7815cd07f0d8400cf666cdadfa9378e79665f31"
	"7d537700b8afc240852349384d0c3434527ca8a1bbb5b33df468dc7b15e08805"
	"5d60b57d7166368c0bad6c8491b108a2d5495408f155d0ecac21afa0f7c507ca"
	"5b8d313c7a5750bf86ef5c85fd012cd903a0c266a8d55c38f43b9f60eeb48112"
	"1a1617cfa59d3aa99a713f179eb46de0a1b01fc5625ce1a475847cc125355a15"
	"0a5f77fb3db64db2b3a999c4484a2c7b48f5744855d39d1899724ca58d539b38"
	"96a37627583856956ad56880c3eaec49ed8c75c6b866972d63c87e3b6b5277fe"
	"1dbbd1d876640f3f4edc4cb36971608f5a0f06ef0494e3c273925dbf8c95d914"
	"55944076db64c023ab340ca97d795cdf2db0e23ed7aa932c699795aec7b829de"
	"8d3353d5a9a05140e135d7f70b5106c11fa1887fa679f45676c5972efbded64a"
	"f4d3344ae52eea94881e42d42302c6b39b5c3385";
static const char rsa16384_key[] =
	"000000077373682d727361000000030100010000080100ce3d587c156abdcb29"
	"17b80dd98078bc21996e225df411d5a810740995ce3e3c2cc1d7326ef2dab5ca"
	"9f8d8cc2d271a7f74cb54cd2ad4451778e1deb1fe3a7b6f2eacdaafa40dae8df"
	"40d85d111350193e06869610e95cc08c7acaeb156442a8e334d2ccc0b30fcd12"
	"c30b2d9a9e4649e429ccfe851831dbf6bdf8e3ede9298ae35d306a29a68d014d"
	"03f58b749d453b09862872bca3757ccc8337404399cab36f5dcdd4182b83e25c"
	"58e9034381e5658c0a95504c995083492af30bc771c9353efe78e36c840526ed"
	"57bcaffa892bd0b6c2d9969c344219d76d206417a5b471751c664bd5c5b33259"
	"d66a3a812ae4b8aabffeeeab3d604b989f12ed6b5a4a48e0184150740c9833f8"
	"18e5b60c5d97bdf75fedc7dc5e704c5aca490411ec2348fd636a0863fed14d46"
	"345ea12736de41d5574aabea4d3f4dd05b79713c156c7ba7c2e8b448041c6372"
	"1f69751e0e05c3ab31f613b62978418428ea3a38f4d9cc752287bee254605f8a"
	"c85b2baec798156e0323459b1c8d6ffc360ff4ca27b6a6947d340262ec291278"
	"5a2de9f07b3100d4f5fa3150324f53ad084a572f2039329ea856fce9aaf76328"
	"ec72fb72cfbdb232ed79ec0f476b0b5b2a738b5a1a066b20cb15f4e55bac270e"
	"0bf1743424103798dfeb332a742327e5831de9e93a34a1bce67e79e25a15d857"
	"d66380a7a89ff8226bb4564f99b03cdedcb032cfeac4ff117af47e0810c97ef1"
	"eb1ffa42195e64777a2e34a982a66ad8884e49f4ad450e324d722578c9c9af83"
	"9b7445ab4f9fd98c06d84ecab0b612db72506dfcf5b012a731376a7eec874e8c"
	"5a96d16d12cb87b7574d3c79d38ef56363a657ea03099f85053f7301013de473"
	"a87c05e96922d512a3cf3d40088e0b40f6f378272c3b4a48032717beb920c53c"
	"bfa47592b811935a108f12b26807dbd5977b9ad20c2c7da746770c2d2ece9888"
	"1c3407b919dbad2ef4900243501fe629a8405fb2fb58211586023ef25887ae3d"
	"6a5cf4a27f8671b7b654467a71449b153116922d32dff7217aca6da2629d3a96"
	"0512e9c49693286369fe7d4f59fff540aeb37dd93df29e4df90143dad3eba6cd"
	"b9c641d8ea3b8a70cdc7a304a09cb041581309d17873fd986edaad68a7c6ed91"
	"25301e14ef30bd1c790a49eb385eb22439e54df0f26cf0894a9267d7a688ff3e"
	"663e66864ee2857a761c615c12bc4356f81276c6d3930e7f0f702ce3d7a509b0"
	"a34a90b950535bf3adafda45b63410e895e5e596eb324e2518ea403aea120bfd"
	"d924f4aeb75a343d310d0784b1b59120d6c307348cab20481638ccc799726e1f"
	"17a89d0015c80f85c0a47268eea08d6ac2e132be699dbd7170d122ac49b5a205"
	"1601bca2b155c627afd96a379fb3dc54896e81766bda19133d9dbce8fe7ebfbe"
	"433c264ea5f7dc918cebc1c84ebf864b5fac572c3a63349a043d6c4ed0b987db"
	"21d7fb946bdfb08280ab07ced461175933cca5cb6df2b357b2a4453e78e650cb"
	"5f52ca109314ab198511a0cbdb727280961804e7ae67986c57093c160e7c4812"
	"1c5421bb96d3374772bf054be91f8f905aed1246ad3d1cedafc91aa32f1a67af"
	"f417fb432e84e6365c9b1eae28a9ff3655bacce3db06bb14830c7239c4b52062"
	"94d41ebc8fde8de9f6bdd8f6b65d028f3e603da4efcb7fec1f32b7fc27ce70c2"
	"21914e17fc0233e3ae3faca777137d578d57a731b6839705d37c06988db13034"
	"3bec795238c52e252fa977aa63e3628734cf79bcc33cca77f359a7ca6abb1685"
	"0314a53afbd69634bbd27d4ce1b32e521b75b024d6d2c4cbd63a5f9d925debda"
	"37ce6f078effc76f22b95711b54067628da7fdd33599fc8ab065e833f825cb69"
	"157faf476df1871ebdffc3ca376a21a61da7eea21c33839ad895b83a016b1586"
	"21f54c4c3b0140561dbf00de85e3266ac4d971281be1ad033356d6d6adb726a8"
	"2f1bb5e859457ece216d153726a8079f68c12edea8667c0f96a07e61e8526ee7"
	"198552ae7de12adfcef07f5e5187f66c03ce9c54feefa0da25819290d83aeb5a"
	"e510370cdbc70e2a6ff6ff2122d493b812cee907d8259cc0bbed1995503531ea"
	"75221df65c34a58f8d61c6f0d41c915894b716c236cbf8f72e73661fb052a0d7"
	"c185eb3dc0fbfb27e056fc59cfb97e149b1c814be6b55879fff13fe0a95416bc"
	"36cc48a1f39c5ea5f451e9234016345c504ca0de526a34787d9a86c77de15a52"
	"3eac888398ff3ff8d38df0cd5ce0b4c205d85e249d39f17fc55f5321d871b656"
	"e8eeec0bdd4e110b36172894658e40833678b4b99be503b420ed7676a1630eb5"
	"e049226958e723931f30e5a30c00a85f86346a26aeb98a68e90b8210c4eb986e"
	"1dcb616b5cf5c4ef7663fff7872258ed2b9801efce018e8f0c288c2574b98520"
	"81080280c75fa50cc76615c44c52b46af5a1bf074fb92efc69b997844f24ec7c"
	"23ca365b37ecd68c7d9dba3583300fb11808498079ce1ef1ec414797572e404f"
	"4155a949926ff38ea78b80873cb1ae67663d3d8b327e357f135966efb21af8e6"
	"0f704226b56aa1c6d7344b8b74cc570ec80ed94732a010e9fd1109dda4da63ba"
	"ddbc1e4e7cf46b641dbf4238ecd926e758262f45104cb3ea631b4fb7a41850bf"
	"d91d71d33fdb169d195680f3f2d716f10eeb9160fd05a616e9bf96051ea9d924"
	"b432605eddd66903870a061280e7f610b5d0004db417924c77ec3e0ec7fd1a81"
	"15371d3db5bdcc7094888f5daf6f472ea6d2210fed35fa774c9912623e50b0b9"
	"026a6b1540110fb576655670df46c71e9f3fbcd63641eb024c6e63d373467a61"
	"12ab871e0451c3da735e3111434743fe8a947cae8aa33c5ae74b6cf2f0705beb"
	"708d4b38dd98318075bda8e7f9a3a6d46cef49cda94d69";
static const char rsa16384_sig[] =
	"0000000c7273612d736861322d353132000008001d79b408c45a6fb2d2556662"
	"ea98a6949cf0254d0170c5bcd7d3c4dd12dd207211cecb5574ae8627db35face"
	"cbfa8a5e760debb3b9e585883c37417013259d7739c232bbadbdc03fd71ff91d"
	"c1e5daac59d20b193dbad1fb1836349abaed077481ea3498c2b3f32de006d8d0"
	"b39da98bae9235235c9db11dd6561aa7e03c7eb55a866802328719b2479b8faf"
	"b981046a39c7bcf7f55fc1d68ba4ea757064edfb3c6037290425694f373afe9c"
	"944fb61c2ce2d1ebdcfa92f08fea7e934c828d7de207521445fb95b3910d456b"
	"2711a9886ae362fb4341b08d4d1bc427d62b27aee32002d09fa351db6db8290f"
	"fbce726660b4fb453412484db0d95a0729e32396f1c1b1bc88d3ae54aab7ad57"
	"50dbc94fc4c809a689efff208a1d27c6bb7d9ab02a1bd01342454432b58ff2d1"
	"345aa92a3698dd40484cb65c6ca862e376902cb6300ee0e774c533d9736f4774"
	"35b9197fa6561e9bf027952ecf05aae700a442330e215d3e3d8305cfaed8b7df"
	"189e15a542f9f3aa4be82c13087101ec1675d65b0490c1a960a36f29f6dfa920"
	"2645064c35ca98e4d998310dd86882241b790235b619f10e97e135c4d887d027"
	"6a7a8d241df4cf33ac7bc6da2abb4fa20884d13db9d9a98529a35628f7d4d68a"
	"c4a819e5228e78c284561f9ae18d859f7b278037a7566a87ccf2620ef0d3d045"
	"eff64f518aea95370ce6a1bfea4cc73aacf9e675b6100a85e68bb855957207e7"
	"5e767c2da97eff538ef263eb564b8e402a170ffef7e95e2b36c1f2bceda5b7fe"
	"0b59da8941bfdc20fd23108811cdfd49d7b5fe393e277905e4ee9c7d7decb320"
	"671604e75e3dfef73fda89ce19470de1041d1e93d6bac6e6ba970155310e58a1"
	"5e812ce057656c9e043382bf9571cea1139812e2c2c269927c130e17ed77e229"
	"0c5bcb782c85b9332bb334b079d5a39455f7c43a22078aadc6fe9d6067c7aa88"
	"0d654fc55026bbc58f145803572b4dad2b9131ba7a6a81d627f3dabcab5273ee"
	"538aae1f424407414d7e034e01d019a0e507cfa3d049f3c861bcccbbb8a10b22"
	"22f5e05e4a059c208c52a906de24bb0b903e3df3631fc215dc4ce9c45a45844a"
	"37ed5d26b648f8ee4da2abf2ff363d5ac14b6d986f98a3c6bb16117c6fd9dd58"
	"ab095904d5bd7f349ec1e11615f62de8d4067706de99f41a180aad0350ddfb8d"
	"5ff3a0a7eb528a445fe8a70c1a8b17b9a9aabd78bde5b26bb642d3bca8baf952"
	"3c36bc08b1ab624da231d6ac19968e7b4ba1b8b6fd6df80140e2d715b4f06328"
	"3cb0794f20657e9f58945660093c39e275ef29e3f15405849010b7154ba4995a"
	"c4af0652a175865ae29309c12d7119227f9e274727a9e401a5e9e6f3293abd96"
	"dff9ad430bf29ecd84a48b5fc5123416c780b0d0776068dc255e3ef04970dace"
	"0f220bd0d5c033beca35b71ba1f2275d4788a116b5397565bef442ec98f2a83f"
	"6e80dfa2466994a7d1702912c9e3d961839a27b97a9f6a12f2996f968473c223"
	"6b5c3420f4caf05eff93ad3080148e858d06b27bf449e9f31e85d876bc84d74a"
	"7c04a98f10e98b7b2303a94b5b007afbfefa1d5dfbd8c80bb99b097eed81f541"
	"22ba6916fbd4973a9b050ff13b6c827acabe7752882f8597e73d88efd3f62124"
	"5a9c35f4905d6b8012056c14db767e076098aced986027badf80c2d75114c845"
	"1c85b731b5a8440dbf2ca31c35448b49a352b712f1067ba53263a430ff33ff07"
	"d849f6c4dc45b8919cec9795d1ace7ca4a391faa536bcc06e63d5079e3a658e4"
	"c3d919e4a340866279702d9f962ea949f76358fa8687235a67dc9e81bfb63205"
	"289b9d3ed1093edc41402fe2bf5b71c0d7c9ebaf5cf1f268ac095c81fb8920d5"
	"b1760986eaee4d5e766fefd5c8b87200a854c6484d299ae625f6d0f466b13b3e"
	"246d29d236aab2c75568594682cd6a697b69bc8bb5cf61f905080ce9d99111ef"
	"850de2a7e4b60b7177537bbcb4ed705016ad0f094af5d78c76aab4e5ae8bbb36"
	"e7af8649f53856e2dc9592971b7b2a7e89e077886cc6e314c6465d9bf7356e09"
	"554d685403d97a25069489256c213767fcb2d84569e1449cc2dc6818bff1031a"
	"f0fa196464f6513977cfff830ff5fbec1b574ed8065c186fb671f5ea83497659"
	"c5bb5e268ada6bf750384f0219abd80af92b132ada103ddf4a9c05f49b11151d"
	"6c3d350b2d134604a4c2733b3e95e1108cb5d1016b7de41f137b49bbd7e69f3e"
	"98f0c60d2a442ae2e0ffadaa63df173169fb0164f4c7c4767567871586838955"
	"15aedab36251bdc260f9d07a210c322dce7dc7d02c873066d97cb8961e5f6388"
	"28c93fcc4200babd3453ddae38c7aa3fb12d68347d8e09556f4d094b79ead816"
	"950a81de58db08d0f3d08dd8bdf4706203fb89354185aa485d55a1c57a40caaf"
	"f6f24d70ac961096c75ac7f63ed0b2bf4a04a64e64880d49fad8628b6fc66bad"
	"c4fde699e93b73274b89199a4f1cfdd177950335076f565c67b471d108be6e55"
	"2525dea15fb355ed7dd3f3133f60f94a1b68351582b9e0a2211e6de7e0c1a873"
	"21c210c959d44278af7a5ad93a10ff5cd03f389399e9be81b1253724015b8dd2"
	"23bff83fc7c0597e95523ddf497982f5f7eff58e5d34e013981fa101b955e2f2"
	"4ad9f4079841ab1f4bd5b7bfd5eefddf69d0a3da4c44ba95a4d6ae0497f33b0d"
	"40bea1b816e192007a1370738b90f52f230d48bad753d95059737f08d0070c08"
	"e5f28fca38e2b1fa674521fa07e467e24d55691a1a8f8d9744630babaeae77c9"
	"add9269f5973f61f3a31b4bf495ba3eb7b93114d3a3c058da62688b334ef4b03"
	"bde92e9dbbe0a76939efed5507da954f22d92b862b7d4841c8fa9ef855931ad4"
	"49a82072c65a92690ae1f50a5afaef723d719e7c";
static const char rsa2048_n[] =
	"b7757192d8744a29287db65e556b906605c16a0eee79b02cd89ed06e35444f14"
	"bb308cdc44fedcc374292af62f4210d8da40197b6d49508d0d67b0a5faf39b37"
	"777b6e5dd6a194550a8c222d8d830e368e113b4337baa52c68889b8419e45fc5"
	"a585ec3a88ca0c40d46b5739c97a9891d9131de37375f07c88ea0605b4fc08d2"
	"89d0adead243e560dc06ea24e47c03f3d5f3ca1d96bd783c226a71c8179609bc"
	"3cd1f325caf6de876881bb358546e185679d11057b27b85ab8ba1217246fe6b2"
	"0d4b28d335d285a2de32b7afd4a476e44a5ca9606fdfb684189a4ef1b5c56f14"
	"a3cd5cc9e21534fd3f11d5d796945390adffae2a259e9098a700c720d1c59167";
static const char rsa2048_e[] = "010001";
static const char rsa2048_d[] =
	"22d778aae155f091b1817285a6e66745a0f93329c3cbb39448cd9c9b199db001"
	"296dd68aacc5d46a8060a32a9f1e067210bd14b9d6af124fbf887e497f880d65"
	"f2d8abc4c192ed475b59f2d1c0eaef63980698c132cfcd37ca608b5c82c85712"
	"03d613dfa803eb60d296d23984d4b62e18d2631e43dad5c1e904bd010f76c03b"
	"dd232709202bbdeab2679d5a41e381605121d2aa6c3f23142f308ff441e7acc7"
	"b0d579e4d5fa9b8abd102630c73cb6c63e9abd3161d694ae5ea88ca1bf5492c8"
	"8bcd877643d40270930835be0c0c2ddfd518d2c2e5c88701dca4710f4472e4b4"
	"fd005224048696f08c8acafa9901b99d5f79105a832e1fea40752b0c54bb9a6d";
static const char rsa2048_p[] =
	"f21a3a51b91e42f20ffeb92af2328a100a2e2b0d2f571a14bd078ac267ffcbfb"
	"26eb4a64faf0931dc419ef3c93a01a64f0b00b3553ee11bbec8f2baee4f120dd"
	"b82671fa8aa07927e7f578a316eb03575073f6c365c35dd7abe584da5ea3d957"
	"b5da539305970a6a13e435a3d38b848b43caef823ab9c67b8de84a21ddb060f3";
static const char rsa2048_q[] =
	"c1fd6da34bb4b97862a7d325cae2303561001c56c2377f30983efa37449d2b39"
	"a72b69d6e51e46c719e713a9eeefc8a8f4dd404e5ba764253bc5791ce5d7c4af"
	"79105df4a000379976ffe2de6d1d1844ffbc9f92bbe6ff4982886e28768ba94c"
	"f68f9e1428dc17477a8b10e0496b565b56051255dc56c92e2c0f9f921f498abd";
static const char ecdsa256_d[] =
	"ef96d7530f0a809dec677b3b511a1fad99661d16af84996f7257c8d3dd86c486";
static const char ecdsa384_d[] =
	"cb8b3c01156976de930f788e574031a3e5e81e9f691205aee1118ca18b985876"
	"477803bd5f6d4a2f5b38602296dfb2c6";
static const char ecdsa521_d[] =
	"0232200bfed35f5fa31387308023171441c2f8628903229d4cdc576992cd869e"
	"2119dd61a8b77cfcf0ee98651311f1ea3834f7c456f826e0776456bd28d0d28f"
	"78";
static const char rsa2048_sha1_sig[] =
	"12cd93a3c66e653b1a637df3be52d5d0ac25880a4fafc66c251de4c6931250c5"
	"b620be3963aceeb553695c6af975286970022719a9a64fa9215501e5322179ea"
	"7f9e847826390c95c9865cb7beb3f190ff29a2262caf65330c8dac269b7e9d0b"
	"52ca79068222c0bbbe553d8a32087857c26b33b3bf2a95b5d9fe4763a330ddc2"
	"b9ea2c1afc3c04a75f1fca6a6c06d5bc592c77733fa232792e985777efed85a5"
	"de09086c0d9a69608e0c7fb72870f070662184f77eb6af0561900d0138e6cd40"
	"b293d7ceb2339c594d34a4e7591cec18c11550b16dbdb2164f2e1de3decfcb00"
	"a6c2149847e735275d28ed42f39602d9c84f77aab0605a3736584465371856db";
static const char rsa2048_sha256_sig[] =
	"a1695d44a504607b0ca50a23d871cf8c8cdf10b3ca2432cbbaef7faadec3e9b1"
	"f1397df02853926215245ddaee773769de0ba8c7d2c92a016bd9697690ca0b81"
	"633a5792abcd4dad5f8df815fd3a3f5e1099d5b8f4a33e71c701c01c6d344447"
	"9581cffceed1409302e358a660b3181cb80e0cd1398136eacbc7a0287a480278"
	"6d2357a320d29d6136655e819cbe1376a9f6b20e5bd60a4ae0b337e6d56514d0"
	"6db0635dfc1d550c24d414c3fc21277c3f24a7458bf5846b49ce1a80d5f05925"
	"438e7d079df641d02c2f3836199d6ec7ff6718681880468f8547d64fcceb11c6"
	"fd5372492fb4148a63732958484f60d22339175b0e0ca890f6cdc207cb133215";
static const char modp2048_p[] =
	"ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74"
	"020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437"
	"4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
	"ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05"
	"98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb"
	"9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b"
	"e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718"
	"3995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff";
static const char p256_g[] =
	"046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2"
	"964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51"
	"f5";
static const char p384_g[] =
	"04aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a"
	"385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc"
	"29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e"
	"5f";
static const char p521_g[] =
	"0400c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b"
	"4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2"
	"e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd"
	"17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94"
	"769fd16650";
/* P-256 field prime p and group order n (FIPS 186-4 §D.1.2.3). */
static const char p256_p[] =
	"ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
static const char p256_n[] =
	"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

struct vec {
	const char *name, *sigalg;
	int type;
	const char *key, *sig;
	size_t stride; /* mutate every stride-th byte (and the ends) */
};

static const struct vec vecs[] = {
	{"ed25519", "ssh-ed25519", LIBSSH2_HOSTKEY_TYPE_ED25519, ed25519_key,
	 ed25519_sig, 1},
	{"ecdsa256", "ecdsa-sha2-nistp256", LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
	 ecdsa256_key, ecdsa256_sig, 1},
	{"ecdsa384", "ecdsa-sha2-nistp384", LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
	 ecdsa384_key, ecdsa384_sig, 1},
	{"ecdsa521", "ecdsa-sha2-nistp521", LIBSSH2_HOSTKEY_TYPE_ECDSA_521,
	 ecdsa521_key, ecdsa521_sig, 1},
	{"rsa2048", "rsa-sha2-512", LIBSSH2_HOSTKEY_TYPE_RSA, rsa2048_key,
	 rsa2048_sig, 1},
	{"rsa3072", "rsa-sha2-512", LIBSSH2_HOSTKEY_TYPE_RSA, rsa3072_key,
	 rsa3072_sig, 1},
	{"rsa16384", "rsa-sha2-512", LIBSSH2_HOSTKEY_TYPE_RSA, rsa16384_key,
	 rsa16384_sig, 67},
};

#define NVECS ((int)(sizeof(vecs) / sizeof(vecs[0])))

static const char *const all_algs[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"rsa-sha2-256",
	"rsa-sha2-512",
	"ssh-rsa",
};

/* ---- helpers ------------------------------------------------------------ */

/* Every put of the writer must succeed. */
#define W(x) ck_assert_int_eq((x), 0)

static void *t_alloc(size_t n, void **abstract)
{
	(void)abstract;
	return malloc(n);
}

static void t_free(void *p, void **abstract)
{
	(void)abstract;
	free(p);
}

static void *t_realloc(void *p, size_t n, void **abstract)
{
	(void)abstract;
	return realloc(p, n);
}

static const struct lalloc t_la = {t_alloc, t_free, t_realloc, NULL};

/* Hex to an exactly sized heap buffer, so ASan sees any over-read. */
static uint8_t *unhex(const char *hex, size_t *n)
{
	size_t len = strlen(hex) / 2, i;
	uint8_t *p;
	unsigned v;

	ck_assert_uint_eq(strlen(hex) % 2, 0);
	p = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		p[i] = (uint8_t)v;
	}
	*n = len;
	return p;
}

/* A heap copy of exactly n bytes. */
static uint8_t *dup(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

/* The SSHSIG signed data (see the top of this file), in w. */
static void sshsig_data(struct wbuf *w)
{
	uint8_t h[64];
	uint8_t *msg;
	size_t n;

	msg = unhex(msg_hex, &n);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, msg, n, h), 0);
	free(msg);
	wb_init(w, &t_la, 4096);
	W(wb_bytes(w, "SSHSIG", 6));
	W(wb_cstring(w, "file"));
	W(wb_string(w, "", 0));
	W(wb_cstring(w, "sha512"));
	W(wb_string(w, h, sizeof(h)));
}

/* A vector's blobs and the signed data. */
struct blobs {
	uint8_t *key, *sig;
	size_t keylen, siglen;
	struct wbuf data;
};

static void load(const struct vec *v, struct blobs *b)
{
	b->key = unhex(v->key, &b->keylen);
	b->sig = unhex(v->sig, &b->siglen);
	sshsig_data(&b->data);
}

static void unload(struct blobs *b)
{
	free(b->key);
	free(b->sig);
	wb_free(&b->data);
}

static int verify(const char *alg, const uint8_t *key, size_t keylen,
		  const uint8_t *sig, size_t siglen, const struct wbuf *data)
{
	return hostkey_verify(alg, key, keylen, sig, siglen, data->p,
			      data->len);
}

/*
 * The bits of byte i to flip: all of them, except in the middle of a
 * sampled (stride > 1) blob, where every stride-th byte gets one flip.
 * The ends hold the lengths, names and low bits that parsing looks at.
 */
static unsigned flip_mask(const struct vec *v, size_t i, size_t len)
{
	if (v->stride == 1 || i < 32 || i + 16 >= len)
		return 0xff;
	return i % v->stride == 0 ? 1u << (i % 8) : 0;
}

/* The host key type a signature algorithm takes. */
static int alg_type(const char *alg)
{
	if (strcmp(alg, "ssh-ed25519") == 0)
		return LIBSSH2_HOSTKEY_TYPE_ED25519;
	if (strcmp(alg, "ecdsa-sha2-nistp256") == 0)
		return LIBSSH2_HOSTKEY_TYPE_ECDSA_256;
	if (strcmp(alg, "ecdsa-sha2-nistp384") == 0)
		return LIBSSH2_HOSTKEY_TYPE_ECDSA_384;
	if (strcmp(alg, "ecdsa-sha2-nistp521") == 0)
		return LIBSSH2_HOSTKEY_TYPE_ECDSA_521;
	return LIBSSH2_HOSTKEY_TYPE_RSA;
}

/* string name, string body: an SSH signature blob around raw bytes. */
static void wrap_sig(struct wbuf *w, const char *name, const uint8_t *p,
		     size_t n)
{
	wb_init(w, &t_la, 1 << 16);
	W(wb_cstring(w, name));
	W(wb_string(w, p, n));
}

/* The body string inside a signature blob. */
static void sig_body(const uint8_t *sig, size_t siglen, const uint8_t **s,
		     size_t *slen)
{
	const uint8_t *name;
	struct rbuf r;
	size_t n;

	rb_init(&r, sig, siglen);
	W(rb_string(&r, &name, &n, 64));
	W(rb_string(&r, s, slen, 4096));
	W(rb_done(&r));
}

/* ---- hostkey_verify on the vectors -------------------------------------- */

START_TEST(test_valid)
{
	const struct vec *v = &vecs[_i];
	struct blobs b;

	load(v, &b);
	ck_assert_msg(verify(v->sigalg, b.key, b.keylen, b.sig, b.siglen,
			     &b.data) == 0,
		      "%s refused", v->name);
	ck_assert_int_eq(hostkey_type(b.key, b.keylen), v->type);
	unload(&b);
}
END_TEST

START_TEST(test_sig_flips)
{
	const struct vec *v = &vecs[_i];
	struct blobs b;
	unsigned bit, mask;
	size_t i;
	int rc;

	load(v, &b);
	for (i = 0; i < b.siglen; i++) {
		mask = flip_mask(v, i, b.siglen);
		for (bit = 0; bit < 8; bit++) {
			if (!(mask & (1u << bit)))
				continue;
			b.sig[i] ^= (uint8_t)(1u << bit);
			rc = verify(v->sigalg, b.key, b.keylen, b.sig, b.siglen,
				    &b.data);
			b.sig[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(rc == LIBSSH2_ERROR_HOSTKEY_SIGN,
				      "%s sig byte %zu bit %u: %d", v->name, i,
				      bit, rc);
		}
	}
	unload(&b);
}
END_TEST

START_TEST(test_key_flips)
{
	const struct vec *v = &vecs[_i];
	struct blobs b;
	unsigned bit, mask;
	size_t i;
	int rc;

	load(v, &b);
	for (i = 0; i < b.keylen; i++) {
		mask = flip_mask(v, i, b.keylen);
		for (bit = 0; bit < 8; bit++) {
			if (!(mask & (1u << bit)))
				continue;
			b.key[i] ^= (uint8_t)(1u << bit);
			rc = verify(v->sigalg, b.key, b.keylen, b.sig, b.siglen,
				    &b.data);
			b.key[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(rc == LIBSSH2_ERROR_HOSTKEY_INIT ||
					      rc == LIBSSH2_ERROR_HOSTKEY_SIGN,
				      "%s key byte %zu bit %u: %d", v->name, i,
				      bit, rc);
		}
	}
	unload(&b);
}
END_TEST

START_TEST(test_data_flips)
{
	const struct vec *v = &vecs[_i];
	struct blobs b;
	size_t i;
	int rc;

	load(v, &b);
	for (i = 0; i < b.data.len; i++) {
		if (!flip_mask(v, i, b.data.len))
			continue;
		b.data.p[i] ^= (uint8_t)(1u << (i % 8));
		rc = verify(v->sigalg, b.key, b.keylen, b.sig, b.siglen,
			    &b.data);
		b.data.p[i] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(rc == LIBSSH2_ERROR_HOSTKEY_SIGN,
			      "%s data byte %zu: %d", v->name, i, rc);
	}
	unload(&b);
}
END_TEST

/* Every proper prefix and one byte of trailing junk, in exact buffers. */
START_TEST(test_truncations)
{
	const struct vec *v = &vecs[_i];
	struct blobs b;
	uint8_t *c;
	size_t n;

	load(v, &b);
	for (n = 0; n < b.siglen; n++) {
		c = dup(b.sig, n);
		ck_assert_int_eq(
			verify(v->sigalg, b.key, b.keylen, c, n, &b.data),
			LIBSSH2_ERROR_HOSTKEY_SIGN);
		free(c);
	}
	for (n = 0; n < b.keylen; n++) {
		c = dup(b.key, n);
		ck_assert_int_eq(
			verify(v->sigalg, c, n, b.sig, b.siglen, &b.data),
			LIBSSH2_ERROR_HOSTKEY_INIT);
		free(c);
	}
	c = malloc(b.siglen + 1);
	ck_assert_ptr_nonnull(c);
	memcpy(c, b.sig, b.siglen);
	c[b.siglen] = 0;
	ck_assert_int_eq(
		verify(v->sigalg, b.key, b.keylen, c, b.siglen + 1, &b.data),
		LIBSSH2_ERROR_HOSTKEY_SIGN);
	free(c);
	c = malloc(b.keylen + 1);
	ck_assert_ptr_nonnull(c);
	memcpy(c, b.key, b.keylen);
	c[b.keylen] = 0;
	ck_assert_int_eq(
		verify(v->sigalg, c, b.keylen + 1, b.sig, b.siglen, &b.data),
		LIBSSH2_ERROR_HOSTKEY_INIT);
	free(c);
	unload(&b);
}
END_TEST

/* A key of another family is a bad key; another RSA hash a bad sig. */
START_TEST(test_wrong_alg)
{
	static const char *const unknown[] = {
		"",
		"ssh-dss",
		"SSH-ED25519",
		"ssh-ed25519 ",
		"rsa-sha2-384",
		"ecdsa-sha2-nistp224",
		"ssh-ed25519-cert-v01@openssh.com",
	};
	const struct vec *v = &vecs[_i];
	const uint8_t *body;
	size_t i, bodylen;
	struct blobs b;
	struct wbuf w;
	int rc, want;

	load(v, &b);
	for (i = 0; i < sizeof(all_algs) / sizeof(all_algs[0]); i++) {
		if (strcmp(all_algs[i], v->sigalg) == 0)
			continue;
		want = alg_type(all_algs[i]) == v->type
			       ? LIBSSH2_ERROR_HOSTKEY_SIGN
			       : LIBSSH2_ERROR_HOSTKEY_INIT;
		rc = verify(all_algs[i], b.key, b.keylen, b.sig, b.siglen,
			    &b.data);
		ck_assert_msg(rc == want, "%s under %s: %d", v->name,
			      all_algs[i], rc);
	}
	/* The signature blob must carry the negotiated name. */
	sig_body(b.sig, b.siglen, &body, &bodylen);
	for (i = 0; i < sizeof(all_algs) / sizeof(all_algs[0]); i++) {
		if (strcmp(all_algs[i], v->sigalg) == 0)
			continue;
		wrap_sig(&w, all_algs[i], body, bodylen);
		ck_assert_int_eq(
			verify(v->sigalg, b.key, b.keylen, w.p, w.len, &b.data),
			LIBSSH2_ERROR_HOSTKEY_SIGN);
		wb_free(&w);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		ck_assert_int_eq(verify(unknown[i], b.key, b.keylen, b.sig,
					b.siglen, &b.data),
				 LIBSSH2_ERROR_ALGO_UNSUPPORTED);
	ck_assert_int_eq(
		verify(NULL, b.key, b.keylen, b.sig, b.siglen, &b.data),
		LIBSSH2_ERROR_ALGO_UNSUPPORTED);
	unload(&b);
}
END_TEST

START_TEST(test_type)
{
	static const uint8_t name_nul[] = {0, 0, 0, 4, 's', 's', 'h', 0};
	static const uint8_t name_short[] = {0, 0, 0, 11, 's', 's', 'h'};
	struct wbuf w;

	ck_assert_int_eq(hostkey_type(NULL, 0), LIBSSH2_HOSTKEY_TYPE_UNKNOWN);
	ck_assert_int_eq(hostkey_type(name_nul, sizeof(name_nul)),
			 LIBSSH2_HOSTKEY_TYPE_UNKNOWN);
	ck_assert_int_eq(hostkey_type(name_short, sizeof(name_short)),
			 LIBSSH2_HOSTKEY_TYPE_UNKNOWN);
	ck_assert_int_eq(hostkey_type(name_short, 3),
			 LIBSSH2_HOSTKEY_TYPE_UNKNOWN);
	wb_init(&w, &t_la, 256);
	W(wb_cstring(&w, "ssh-dss"));
	ck_assert_int_eq(hostkey_type(w.p, w.len),
			 LIBSSH2_HOSTKEY_TYPE_UNKNOWN);
	wb_reset(&w);
	W(wb_cstring(&w, ""));
	ck_assert_int_eq(hostkey_type(w.p, w.len),
			 LIBSSH2_HOSTKEY_TYPE_UNKNOWN);
	/* Only the name is looked at. */
	wb_reset(&w);
	W(wb_cstring(&w, "ssh-rsa"));
	ck_assert_int_eq(hostkey_type(w.p, w.len), LIBSSH2_HOSTKEY_TYPE_RSA);
	wb_reset(&w);
	W(wb_cstring(&w, "ecdsa-sha2-nistp521"));
	ck_assert_int_eq(hostkey_type(w.p, w.len),
			 LIBSSH2_HOSTKEY_TYPE_ECDSA_521);
	wb_free(&w);
}
END_TEST

/* Ed25519 keys and signatures of the wrong size (RFC 8709 §4, §6). */
START_TEST(test_ed25519_sizes)
{
	static const uint8_t zero[65];
	struct wbuf data, key, sig;
	const uint8_t *pk, *body;
	size_t n, pklen, bodylen;
	struct blobs b;
	struct rbuf r;

	load(&vecs[0], &b);
	rb_init(&r, b.key, b.keylen);
	W(rb_string(&r, &pk, &n, 64));
	W(rb_string(&r, &pk, &pklen, 64));
	sig_body(b.sig, b.siglen, &body, &bodylen);
	sshsig_data(&data);
	for (n = 31; n <= 33; n += 2) {
		wb_init(&key, &t_la, 256);
		W(wb_cstring(&key, "ssh-ed25519"));
		W(wb_string(&key, n < pklen ? pk : zero, n));
		ck_assert_int_eq(hostkey_verify("ssh-ed25519", key.p, key.len,
						b.sig, b.siglen, data.p,
						data.len),
				 LIBSSH2_ERROR_HOSTKEY_INIT);
		wb_free(&key);
	}
	for (n = 63; n <= 65; n += 2) {
		wrap_sig(&sig, "ssh-ed25519", n < bodylen ? body : zero, n);
		ck_assert_int_eq(hostkey_verify("ssh-ed25519", b.key, b.keylen,
						sig.p, sig.len, data.p,
						data.len),
				 LIBSSH2_ERROR_HOSTKEY_SIGN);
		wb_free(&sig);
	}
	wb_free(&data);
	unload(&b);
}
END_TEST

/* ---- ECDSA -------------------------------------------------------------- */

struct ecvec {
	int curve, hash, type;
	const char *sigalg, *curvename, *key, *d, *g;
};

static const struct ecvec ecvecs[] = {
	{CRYPTO_EC_NISTP256, CRYPTO_SHA256, LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
	 "ecdsa-sha2-nistp256", "nistp256", ecdsa256_key, ecdsa256_d, p256_g},
	{CRYPTO_EC_NISTP384, CRYPTO_SHA384, LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
	 "ecdsa-sha2-nistp384", "nistp384", ecdsa384_key, ecdsa384_d, p384_g},
	{CRYPTO_EC_NISTP521, CRYPTO_SHA512, LIBSSH2_HOSTKEY_TYPE_ECDSA_521,
	 "ecdsa-sha2-nistp521", "nistp521", ecdsa521_key, ecdsa521_d, p521_g},
};

#define NECVECS ((int)(sizeof(ecvecs) / sizeof(ecvecs[0])))

/* Q from an ECDSA key blob, parsed with the reader under test's care. */
static void ec_point_of(const uint8_t *key, size_t keylen, const uint8_t **q,
			size_t *qlen)
{
	const uint8_t *p;
	struct rbuf r;
	size_t n;

	rb_init(&r, key, keylen);
	W(rb_string(&r, &p, &n, 64));
	W(rb_string(&r, &p, &n, 64));
	W(rb_string(&r, q, qlen, 256));
	W(rb_done(&r));
}

static void ec_key_blob(struct wbuf *w, const char *name, const char *curve,
			const uint8_t *q, size_t qlen)
{
	wb_init(w, &t_la, 4096);
	W(wb_cstring(w, name));
	W(wb_cstring(w, curve));
	W(wb_string(w, q, qlen));
}

/* A vector's key, d, the hashed signed data and one signature of it. */
struct ecsign {
	uint8_t *key, *d;
	const uint8_t *q;
	size_t keylen, dlen, qlen, hlen, olen;
	uint8_t h[CRYPTO_HASH_MAX_LEN];
	uint8_t r[CRYPTO_EC_MAX_LEN], s[CRYPTO_EC_MAX_LEN];
	struct wbuf data;
};

static void ecsign_load(const struct ecvec *e, struct ecsign *t)
{
	t->key = unhex(e->key, &t->keylen);
	t->d = unhex(e->d, &t->dlen);
	ec_point_of(t->key, t->keylen, &t->q, &t->qlen);
	sshsig_data(&t->data);
	t->hlen = crypto_hash_len(e->hash);
	t->olen = crypto_ec_order_len(e->curve);
	ck_assert_int_eq(crypto_hash(e->hash, t->data.p, t->data.len, t->h), 0);
	ck_assert_int_eq(crypto_ecdsa_sign(e->curve, t->d, t->dlen, t->h,
					   t->hlen, t->r, t->s),
			 0);
}

static void ecsign_unload(struct ecsign *t)
{
	wb_free(&t->data);
	free(t->d);
	free(t->key);
}

/* hostkey_verify of the body {mpint r, mpint s} as built in body. */
static int ecsign_check(const struct ecvec *e, const struct ecsign *t,
			const struct wbuf *body)
{
	struct wbuf sig;
	int rc;

	wrap_sig(&sig, e->sigalg, body->p, body->len);
	rc = hostkey_verify(e->sigalg, t->key, t->keylen, sig.p, sig.len,
			    t->data.p, t->data.len);
	wb_free(&sig);
	return rc;
}

START_TEST(test_ecdsa_sign)
{
	const struct ecvec *e = &ecvecs[_i];
	uint8_t r2[CRYPTO_EC_MAX_LEN], s2[CRYPTO_EC_MAX_LEN];
	struct ecsign t;
	struct wbuf body;

	ecsign_load(e, &t);
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve, t.q, t.qlen, t.h, t.hlen,
					     t.r, t.olen, t.s, t.olen),
			 0);
	/* Through the SSH encoding, RFC 5656 §3.1.2. */
	wb_init(&body, &t_la, 4096);
	W(wb_mpint(&body, t.r, t.olen));
	W(wb_mpint(&body, t.s, t.olen));
	ck_assert_int_eq(ecsign_check(e, &t, &body), 0);
	/* Trailing bytes after s. */
	W(wb_u8(&body, 0));
	ck_assert_int_eq(ecsign_check(e, &t, &body),
			 LIBSSH2_ERROR_HOSTKEY_SIGN);
	/* r with a zero byte first: only right before a set top bit. */
	wb_reset(&body);
	W(wb_u32(&body, (uint32_t)t.olen + 1));
	W(wb_u8(&body, 0));
	W(wb_bytes(&body, t.r, t.olen));
	W(wb_mpint(&body, t.s, t.olen));
	ck_assert_int_eq(ecsign_check(e, &t, &body),
			 t.r[0] & 0x80 ? 0 : LIBSSH2_ERROR_HOSTKEY_SIGN);
	wb_free(&body);
	/* A fresh nonce each time. */
	ck_assert_int_eq(
		crypto_ecdsa_sign(e->curve, t.d, t.dlen, t.h, t.hlen, r2, s2),
		0);
	ck_assert_mem_ne(t.r, r2, t.olen);
	ecsign_unload(&t);
}
END_TEST

START_TEST(test_ecdsa_ranges)
{
	const struct ecvec *e = &ecvecs[_i];
	uint8_t r2[CRYPTO_EC_MAX_LEN], s2[CRYPTO_EC_MAX_LEN];
	uint8_t big[CRYPTO_EC_MAX_LEN + 1];
	struct ecsign t;
	size_t ol;

	ecsign_load(e, &t);
	ol = t.olen;
	/* Another hash, another curve, r empty or too long, no hash. */
	t.h[0] ^= 1;
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve, t.q, t.qlen, t.h, t.hlen,
					     t.r, ol, t.s, ol),
			 -1);
	t.h[0] ^= 1;
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve % 3 + 1, t.q, t.qlen, t.h,
					     t.hlen, t.r, ol, t.s, ol),
			 -1);
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve, t.q, t.qlen, t.h, t.hlen,
					     t.r, 0, t.s, ol),
			 -1);
	memset(big, 0, sizeof(big));
	big[0] = 1;
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve, t.q, t.qlen, t.h, t.hlen,
					     big, ol + 1, t.s, ol),
			 -1);
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve, t.q, t.qlen, t.h, 0, t.r,
					     ol, t.s, ol),
			 -1);
	/* Leading zeros on input are ignored. */
	memset(big, 0, sizeof(big));
	memcpy(big + 1, t.r, ol);
	ck_assert_int_eq(crypto_ecdsa_verify(e->curve, t.q, t.qlen, t.h, t.hlen,
					     big, ol + 1, t.s, ol),
			 0);
	/* Private scalar out of [1, n-1], unknown curve, empty hash. */
	memset(big, 0, sizeof(big));
	ck_assert_int_eq(
		crypto_ecdsa_sign(e->curve, big, ol, t.h, t.hlen, r2, s2), -1);
	memset(big, 0xff, sizeof(big));
	ck_assert_int_eq(
		crypto_ecdsa_sign(e->curve, big, ol, t.h, t.hlen, r2, s2), -1);
	ck_assert_int_eq(crypto_ecdsa_sign(0, t.d, t.dlen, t.h, t.hlen, r2, s2),
			 -1);
	ck_assert_int_eq(
		crypto_ecdsa_sign(e->curve, t.d, t.dlen, t.h, 0, r2, s2), -1);
	ecsign_unload(&t);
}
END_TEST

/* Key blobs whose curve or point is wrong are bad keys. */
START_TEST(test_ecdsa_bad_keys)
{
	const struct ecvec *e = &ecvecs[_i];
	const struct ecvec *o = &ecvecs[(_i + 1) % NECVECS];
	size_t keylen, qlen, flen = crypto_ec_field_len(e->curve);
	uint8_t bad[CRYPTO_EC_MAX_POINT];
	struct wbuf data, w;
	const uint8_t *q;
	uint8_t *key;

	key = unhex(e->key, &keylen);
	ec_point_of(key, keylen, &q, &qlen);
	sshsig_data(&data);
#define EXPECT_INIT(name, curve, pt, ptlen)                                    \
	do {                                                                   \
		ec_key_blob(&w, name, curve, pt, ptlen);                       \
		ck_assert_int_eq(hostkey_verify(name, w.p, w.len, NULL, 0,     \
						data.p, data.len),             \
				 LIBSSH2_ERROR_HOSTKEY_INIT);                  \
		wb_free(&w);                                                   \
	} while (0)
	/* The two curve names disagree; the point is of another curve. */
	EXPECT_INIT(e->sigalg, o->curvename, q, qlen);
	EXPECT_INIT(o->sigalg, o->curvename, q, qlen);
	EXPECT_INIT(o->sigalg, e->curvename, q, qlen);
	/* Compressed form, the point at infinity, empty. */
	memcpy(bad, q, qlen);
	bad[0] = 0x02;
	EXPECT_INIT(e->sigalg, e->curvename, bad, 1 + flen);
	bad[0] = 0x00;
	EXPECT_INIT(e->sigalg, e->curvename, bad, 1);
	EXPECT_INIT(e->sigalg, e->curvename, bad, 0);
	/* Off the curve. */
	memcpy(bad, q, qlen);
	bad[qlen - 1] ^= 1;
	EXPECT_INIT(e->sigalg, e->curvename, bad, qlen);
	ck_assert_int_eq(crypto_ec_check_point(e->curve, bad, qlen), -1);
	ck_assert_int_eq(crypto_ec_check_point(e->curve, q, qlen), 0);
	ck_assert_int_eq(crypto_ec_check_point(0, q, qlen), -1);
#undef EXPECT_INIT
	wb_free(&data);
	free(key);
}
END_TEST

/* A coordinate equal to p is out of range even if it reduced onto the
 * curve; r = n is out of range (SEC1 §4.1.4 step 1). */
START_TEST(test_p256_bounds)
{
	uint8_t pt[65], h[32], one = 1;
	size_t plen, nlen, keylen, qlen;
	uint8_t *p, *n, *key;
	const uint8_t *q;

	p = unhex(p256_p, &plen);
	n = unhex(p256_n, &nlen);
	key = unhex(ecdsa256_key, &keylen);
	ec_point_of(key, keylen, &q, &qlen);
	memcpy(pt, q, sizeof(pt));
	memcpy(pt + 1, p, 32);
	ck_assert_int_eq(crypto_ec_check_point(CRYPTO_EC_NISTP256, pt, 65), -1);
	memset(h, 0x5a, sizeof(h));
	ck_assert_int_eq(crypto_ecdsa_verify(CRYPTO_EC_NISTP256, q, qlen, h, 32,
					     n, 32, &one, 1),
			 -1);
	ck_assert_int_eq(crypto_ecdsa_verify(CRYPTO_EC_NISTP256, q, qlen, h, 32,
					     &one, 1, n, 32),
			 -1);
	ck_assert_uint_eq(crypto_ec_point_len(CRYPTO_EC_NISTP521), 133);
	ck_assert_uint_eq(crypto_ec_field_len(CRYPTO_EC_NISTP384), 48);
	ck_assert_uint_eq(crypto_ec_order_len(CRYPTO_EC_NISTP256), 32);
	ck_assert_uint_eq(crypto_ec_point_len(0), 0);
	free(key);
	free(n);
	free(p);
}
END_TEST

/* ---- ECDH --------------------------------------------------------------- */

START_TEST(test_ecdh)
{
	const struct ecvec *e = &ecvecs[_i];
	const struct ecvec *o = &ecvecs[(_i + 1) % NECVECS];
	size_t plen = crypto_ec_point_len(e->curve), glen;
	size_t flen = crypto_ec_field_len(e->curve);
	uint8_t qa[CRYPTO_EC_MAX_POINT], qb[CRYPTO_EC_MAX_POINT];
	uint8_t qo[CRYPTO_EC_MAX_POINT];
	uint8_t za[CRYPTO_EC_MAX_LEN], zb[CRYPTO_EC_MAX_LEN];
	struct crypto_ecdh a, b, c;
	uint8_t *g;

	ck_assert_int_eq(crypto_ecdh_keygen(&a, e->curve, qa), 0);
	ck_assert_int_eq(crypto_ecdh_keygen(&b, e->curve, qb), 0);
	ck_assert_int_eq(crypto_ecdh_keygen(&c, o->curve, qo), 0);
	ck_assert_int_eq(crypto_ec_check_point(e->curve, qa, plen), 0);
	ck_assert_int_eq(crypto_ecdh_shared(&a, qb, plen, za), 0);
	ck_assert_int_eq(crypto_ecdh_shared(&b, qa, plen, zb), 0);
	ck_assert_mem_eq(za, zb, flen);
	/* d * G is our own public point: z is its x-coordinate. */
	g = unhex(e->g, &glen);
	ck_assert_int_eq(crypto_ecdh_shared(&a, g, glen, za), 0);
	ck_assert_mem_eq(za, qa + 1, flen);
	free(g);
	/* Bad peer points. */
	qb[plen - 1] ^= 1;
	ck_assert_int_eq(crypto_ecdh_shared(&a, qb, plen, za), -1);
	qb[plen - 1] ^= 1;
	ck_assert_int_eq(crypto_ecdh_shared(&a, qb, plen - 1, za), -1);
	qb[0] = 0x02;
	ck_assert_int_eq(crypto_ecdh_shared(&a, qb, 1 + flen, za), -1);
	qb[0] = 0x00;
	ck_assert_int_eq(crypto_ecdh_shared(&a, qb, 1, za), -1);
	ck_assert_int_eq(
		crypto_ecdh_shared(&a, qo, crypto_ec_point_len(o->curve), za),
		-1);
	/* Freed contexts and unknown curves. */
	crypto_ecdh_free(&a);
	ck_assert_int_eq(crypto_ecdh_shared(&a, qa, plen, za), -1);
	crypto_ecdh_free(&b);
	crypto_ecdh_free(&c);
	crypto_ecdh_free(NULL);
	ck_assert_int_eq(crypto_ecdh_keygen(&a, 0, qa), -1);
}
END_TEST

/* ---- RSA ---------------------------------------------------------------- */

struct rsakey {
	uint8_t *n, *e, *d, *p, *q;
	struct crypto_rsa_priv k;
};

static void rsa_load(struct rsakey *r)
{
	r->n = unhex(rsa2048_n, &r->k.nlen);
	r->e = unhex(rsa2048_e, &r->k.elen);
	r->d = unhex(rsa2048_d, &r->k.dlen);
	r->p = unhex(rsa2048_p, &r->k.plen);
	r->q = unhex(rsa2048_q, &r->k.qlen);
	r->k.n = r->n;
	r->k.e = r->e;
	r->k.d = r->d;
	r->k.p = r->p;
	r->k.q = r->q;
}

static void rsa_unload(struct rsakey *r)
{
	free(r->n);
	free(r->e);
	free(r->d);
	free(r->p);
	free(r->q);
}

/* Our signer reproduces OpenSSL's and ssh-keygen's signatures, and the
 * three RSA algorithms verify through hostkey_verify. */
START_TEST(test_rsa_kat)
{
	static const struct {
		const char *alg, *sig;
		int hash;
	} kat[] = {
		{"ssh-rsa", rsa2048_sha1_sig, CRYPTO_SHA1},
		{"rsa-sha2-256", rsa2048_sha256_sig, CRYPTO_SHA256},
		{"rsa-sha2-512", NULL, CRYPTO_SHA512},
	};
	uint8_t h[CRYPTO_HASH_MAX_LEN], out[256];
	size_t keylen, blen, slen, i;
	struct wbuf data, sig;
	const uint8_t *s;
	uint8_t *key, *blob;
	struct rsakey r;

	rsa_load(&r);
	key = unhex(rsa2048_key, &keylen);
	sshsig_data(&data);
	ck_assert_uint_eq(crypto_rsa_len(r.n, r.k.nlen), 256);
	for (i = 0; i < 3; i++) {
		blob = unhex(kat[i].sig ? kat[i].sig : rsa2048_sig, &blen);
		if (kat[i].sig) {
			s = blob;
			slen = blen;
		} else {
			sig_body(blob, blen, &s, &slen);
		}
		ck_assert_uint_eq(slen, 256);
		ck_assert_int_eq(crypto_hash(kat[i].hash, data.p, data.len, h),
				 0);
		ck_assert_int_eq(crypto_rsa_sign(&r.k, kat[i].hash, h,
						 crypto_hash_len(kat[i].hash),
						 out),
				 0);
		ck_assert_mem_eq(out, s, 256);
		wrap_sig(&sig, kat[i].alg, s, slen);
		ck_assert_int_eq(hostkey_verify(kat[i].alg, key, keylen, sig.p,
						sig.len, data.p, data.len),
				 0);
		/* The name in the blob must be the negotiated one. */
		ck_assert_int_eq(hostkey_verify(kat[(i + 1) % 3].alg, key,
						keylen, sig.p, sig.len, data.p,
						data.len),
				 LIBSSH2_ERROR_HOSTKEY_SIGN);
		wb_free(&sig);
		/* Right name, S made with another hash. */
		wrap_sig(&sig, kat[(i + 1) % 3].alg, s, slen);
		ck_assert_int_eq(hostkey_verify(kat[(i + 1) % 3].alg, key,
						keylen, sig.p, sig.len, data.p,
						data.len),
				 LIBSSH2_ERROR_HOSTKEY_SIGN);
		wb_free(&sig);
		free(blob);
	}
	wb_free(&data);
	free(key);
	rsa_unload(&r);
}
END_TEST

/* What the signer refuses. */
START_TEST(test_rsa_sign_refusals)
{
	uint8_t h[CRYPTO_HASH_MAX_LEN] = {0}, out[256];
	struct rsakey r;

	rsa_load(&r);
	/* No SHA-384 or MD5 for RSA; the hash length must match. */
	ck_assert_int_eq(crypto_rsa_sign(&r.k, CRYPTO_SHA384, h, 48, out), -1);
	ck_assert_int_eq(crypto_rsa_sign(&r.k, CRYPTO_MD5, h, 16, out), -1);
	ck_assert_int_eq(crypto_rsa_sign(&r.k, CRYPTO_SHA256, h, 31, out), -1);
	/* A wrong d: mbedTLS's check of its own result catches it. */
	ck_assert_int_eq(crypto_rsa_sign(&r.k, CRYPTO_SHA256, h, 32, out), 0);
	r.d[r.k.dlen - 1] ^= 2;
	ck_assert_int_eq(crypto_rsa_sign(&r.k, CRYPTO_SHA256, h, 32, out), -1);
	rsa_unload(&r);
}
END_TEST

/* out = a + b, n bytes big-endian; returns the carry out. */
static unsigned add_be(uint8_t *out, const uint8_t *a, const uint8_t *b,
		       size_t n)
{
	unsigned c = 0;

	while (n-- > 0) {
		c += (unsigned)a[n] + b[n];
		out[n] = (uint8_t)c;
		c >>= 8;
	}
	return c;
}

/*
 * RFC 8332 §3: a signature with its leading zero byte dropped is accepted,
 * one with an extra leading byte is not.  Sign until S starts with zero
 * (about one in 256; deterministic, so always the same count).
 */
START_TEST(test_rsa_short_sig)
{
	uint8_t h[32], s[256], big[257];
	struct wbuf sig;
	size_t keylen;
	struct rsakey r;
	uint8_t *key;
	uint32_t i;

	rsa_load(&r);
	key = unhex(rsa2048_key, &keylen);
	for (i = 0;; i++) {
		ck_assert_uint_lt(i, 100000);
		ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, &i, sizeof(i), h),
				 0);
		ck_assert_int_eq(crypto_rsa_sign(&r.k, CRYPTO_SHA256, h, 32, s),
				 0);
		if (s[0] == 0)
			break;
	}
	ck_assert_int_eq(crypto_rsa_verify(r.n, r.k.nlen, r.e, r.k.elen,
					   CRYPTO_SHA256, h, 32, s, 256),
			 0);
	ck_assert_int_eq(crypto_rsa_verify(r.n, r.k.nlen, r.e, r.k.elen,
					   CRYPTO_SHA256, h, 32, s + 1, 255),
			 0);
	wrap_sig(&sig, "rsa-sha2-256", s + 1, 255);
	ck_assert_int_eq(hostkey_verify("rsa-sha2-256", key, keylen, sig.p,
					sig.len, (uint8_t *)&i, sizeof(i)),
			 0);
	wb_free(&sig);
	big[0] = 0;
	memcpy(big + 1, s, 256);
	ck_assert_int_eq(crypto_rsa_verify(r.n, r.k.nlen, r.e, r.k.elen,
					   CRYPTO_SHA256, h, 32, big, 257),
			 -1);
	/* Dropping a non-zero byte changes S. */
	if (s[1] != 0)
		ck_assert_int_eq(crypto_rsa_verify(r.n, r.k.nlen, r.e, r.k.elen,
						   CRYPTO_SHA256, h, 32, s + 2,
						   254),
				 -1);
	/* S >= n is out of range (RFC 8017 §5.2.2), even S + n, which is
	 * S modulo n (it fits in 256 bytes as S starts with a zero). */
	ck_assert_int_eq(crypto_rsa_verify(r.n, r.k.nlen, r.e, r.k.elen,
					   CRYPTO_SHA256, h, 32, r.n, r.k.nlen),
			 -1);
	ck_assert_uint_eq(r.k.nlen, 256);
	ck_assert_uint_eq(add_be(big, s, r.n, 256), 0);
	ck_assert_int_eq(crypto_rsa_verify(r.n, r.k.nlen, r.e, r.k.elen,
					   CRYPTO_SHA256, h, 32, big, 256),
			 -1);
	free(key);
	rsa_unload(&r);
}
END_TEST

/* An odd magnitude of exactly bits bits: 0b1000...0001. */
static size_t make_n(uint8_t *p, size_t bits)
{
	size_t len = (bits + 7) / 8;

	memset(p, 0, len);
	p[0] = (uint8_t)(1u << ((bits - 1) % 8));
	p[len - 1] |= 1;
	return len;
}

START_TEST(test_rsa_limits)
{
	static const uint8_t e3[] = {3}, e1[] = {1}, e4[] = {4};
	static const uint8_t e65537[] = {1, 0, 1};
	static const uint8_t e64[] = {0x80, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t e65[] = {1, 0, 0, 0, 0, 0, 0, 0, 1};
	static uint8_t n[CRYPTO_RSA_MAX_LEN + 2];
	uint8_t h[32] = {0};
	struct wbuf w, data;
	size_t len;

	len = make_n(n, 1023);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65537, 3), -1);
	len = make_n(n, 1024);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65537, 3), 0);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e3, 1), 0);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e1, 1), -1);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e4, 1), -1);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65537, 0), -1);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, n, len), -1);
	n[len - 1] &= 0xfe;
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65537, 3), -1);
	len = make_n(n, 8193);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e64, sizeof(e64)), 0);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65, sizeof(e65)), -1);
	len = make_n(n, 16384);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65537, 3), 0);
	len = make_n(n, 16385);
	ck_assert_int_eq(crypto_rsa_check_pub(n, len, e65537, 3), -1);
	ck_assert_int_eq(crypto_rsa_verify(n, len, e65537, 3, CRYPTO_SHA256, h,
					   32, e3, 1),
			 -1);
	/* A 1000-bit key is a bad key for hostkey_verify. */
	sshsig_data(&data);
	len = make_n(n, 1000);
	wb_init(&w, &t_la, 4096);
	W(wb_cstring(&w, "ssh-rsa"));
	W(wb_mpint(&w, e65537, 3));
	W(wb_mpint(&w, n, len));
	ck_assert_int_eq(hostkey_verify("rsa-sha2-256", w.p, w.len, NULL, 0,
					data.p, data.len),
			 LIBSSH2_ERROR_HOSTKEY_INIT);
	wb_free(&w);
	wb_free(&data);
}
END_TEST

/* ---- finite-field DH ---------------------------------------------------- */

START_TEST(test_dh)
{
	static const uint8_t two[] = {2}, one[] = {1}, zero[] = {0};
	uint8_t ea[256], eb[256], ka[256], kb[256], f[257];
	struct crypto_dh a, b;
	size_t plen;
	uint8_t *p;

	p = unhex(modp2048_p, &plen);
	ck_assert_int_eq(crypto_dh_keygen(&a, p, plen, two, 1, 512, ea), 0);
	ck_assert_int_eq(crypto_dh_keygen(&b, p, plen, two, 1, 0, eb), 0);
	ck_assert_uint_eq(crypto_dh_len(&a), 256);
	ck_assert_uint_eq(a.xlen, 64);
	ck_assert_uint_eq(b.xlen, CRYPTO_DH_MIN_XBITS / 8);
	ck_assert_int_eq(crypto_dh_shared(&a, eb, 256, ka), 0);
	ck_assert_int_eq(crypto_dh_shared(&b, ea, 256, kb), 0);
	ck_assert_mem_eq(ka, kb, 256);
	/* g^x is e. */
	ck_assert_int_eq(crypto_dh_shared(&a, two, 1, ka), 0);
	ck_assert_mem_eq(ka, ea, 256);
	/* f outside (1, p - 1). */
	ck_assert_int_eq(crypto_dh_shared(&a, zero, 1, ka), -1);
	ck_assert_int_eq(crypto_dh_shared(&a, one, 1, ka), -1);
	ck_assert_int_eq(crypto_dh_shared(&a, zero, 0, ka), -1);
	ck_assert_int_eq(crypto_dh_shared(&a, p, plen, ka), -1);
	memcpy(f, p, plen);
	f[plen - 1] -= 1;
	ck_assert_int_eq(crypto_dh_shared(&a, f, plen, ka), -1);
	f[plen - 1] -= 1;
	ck_assert_int_eq(crypto_dh_shared(&a, f, plen, ka), 0);
	f[0] = 1;
	memcpy(f + 1, p, plen);
	ck_assert_int_eq(crypto_dh_shared(&a, f, plen + 1, ka), -1);
	/* A huge xbits is cut to bits(p) - 2. */
	crypto_dh_free(&b);
	ck_assert_int_eq(crypto_dh_keygen(&b, p, plen, two, 1, 100000, eb), 0);
	ck_assert_uint_eq(b.xlen, 256);
	/* Bad groups: g out of range, p even or too small. */
	ck_assert_int_eq(crypto_dh_keygen(&b, p, plen, one, 1, 0, eb), -1);
	memcpy(f, p, plen);
	f[plen - 1] -= 1;
	ck_assert_int_eq(crypto_dh_keygen(&b, p, plen, f, plen, 0, eb), -1);
	ck_assert_int_eq(crypto_dh_keygen(&b, f, plen, two, 1, 0, eb), -1);
	ck_assert_int_eq(
		crypto_dh_keygen(&b, p + 129, plen - 129, two, 1, 0, eb), -1);
	/* A freed context computes nothing. */
	crypto_dh_free(&a);
	ck_assert_int_eq(crypto_dh_shared(&a, eb, 256, ka), -1);
	crypto_dh_free(&b);
	crypto_dh_free(NULL);
	free(p);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *hostkey_suite(void)
{
	Suite *s = suite_create("hostkey");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_valid, 0, NVECS);
	tcase_add_loop_test(tc, test_wrong_alg, 0, NVECS);
	tcase_add_loop_test(tc, test_truncations, 0, NVECS);
	tcase_add_test(tc, test_type);
	tcase_add_test(tc, test_ed25519_sizes);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("mutations");
	tcase_add_loop_test(tc, test_sig_flips, 0, NVECS);
	tcase_add_loop_test(tc, test_key_flips, 0, NVECS);
	tcase_add_loop_test(tc, test_data_flips, 0, NVECS);
	tcase_set_timeout(tc, 900);
	suite_add_tcase(s, tc);

	tc = tcase_create("ecdsa");
	tcase_add_loop_test(tc, test_ecdsa_sign, 0, NECVECS);
	tcase_add_loop_test(tc, test_ecdsa_ranges, 0, NECVECS);
	tcase_add_loop_test(tc, test_ecdsa_bad_keys, 0, NECVECS);
	tcase_add_test(tc, test_p256_bounds);
	tcase_add_loop_test(tc, test_ecdh, 0, NECVECS);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("rsa-dh");
	tcase_add_test(tc, test_rsa_kat);
	tcase_add_test(tc, test_rsa_sign_refusals);
	tcase_add_test(tc, test_rsa_short_sig);
	tcase_add_test(tc, test_rsa_limits);
	tcase_add_test(tc, test_dh);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hostkey_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
