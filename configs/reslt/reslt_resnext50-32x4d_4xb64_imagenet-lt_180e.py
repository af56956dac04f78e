# ResLT (Cui et al., TPAMI 2022), ResNeXt-50 (32x4d) on ImageNet-LT: the official run (jiequancui/ResLT
# ImageNetLT/sh/X50.sh, ImageNetTrain_reslt.py), whose recipe ./reslt_resnet50_4xb64_imagenet-lt_180e.py carries, on
# the ResNeXt backbone. tools/dist_train.sh THIS_CONFIG 4
_base_ = './reslt_resnet50_4xb64_imagenet-lt_180e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
