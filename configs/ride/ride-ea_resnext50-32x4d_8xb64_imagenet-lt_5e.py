# RIDE stage 2, expert assignment (ImageNet-LT, ResNeXt-50 32x4d): the ResNet-50 stage-2 config
# (./ride-ea_resnet50_8xb64_imagenet-lt_5e.py; official configs/config_imagenet_lt_resnext50_ride_ea.json: top-50,
# pos_weight 100, balanced sampling, SGD nesterov lr 0.01 for batch 512, weight decay 5e-4, 5 epochs, cosine to 0)
# on the ResNeXt-50 stage-1 model.
# Train stage 1 first (ride_resnext50-32x4d_8xb32_imagenet-lt_90e.py), then tools/dist_train.sh THIS_CONFIG 8
_base_ = './ride-ea_resnet50_8xb64_imagenet-lt_5e.py'
load_from = 'work_dirs/ride_resnext50-32x4d_8xb32_imagenet-lt_90e/epoch_90.pth'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
