# LADE (Hong et al., CVPR 2021), ResNeXt-50 (32x4d) on ImageNet-LT: the official run (hyperconnect/LADE README command
# and config/ImageNet_LT/lade.yaml), whose recipe ./lade_resnet50_4xb64_imagenet-lt_180e.py carries, on the ResNeXt
# backbone. tools/dist_train.sh THIS_CONFIG 4
_base_ = './lade_resnet50_4xb64_imagenet-lt_180e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
