# CC-SAM stage 2 on the ResNeXt-50 (32x4d) stage-1 model: ./ccsam_resnet50_8xb64_imagenet-lt_30e.py with that
# backbone. Train stage 1 first (./stage1-ccsam_resnext50-32x4d_8xb64_imagenet-lt_90e.py), then
# tools/dist_train.sh THIS_CONFIG 8
_base_ = './ccsam_resnet50_8xb64_imagenet-lt_30e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))  # the backbone of stage 1
load_from = 'work_dirs/stage1-ccsam_resnext50-32x4d_8xb64_imagenet-lt_90e/epoch_90.pth'
