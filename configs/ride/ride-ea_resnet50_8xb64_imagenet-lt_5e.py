# RIDE stage 2, expert assignment (ImageNet-LT, ResNet-50): the stage-1 RIDE model is loaded and frozen (BatchNorm in
# eval mode) and only the router learns, from "the experts so far are wrong and a later one fixes it" (BCE, pos_weight
# 100), with the top-50 mean logits as input; at test time each sample adds experts while the router says so. Official
# configs/config_imagenet_lt_resnet50_ride_ea.json: balanced (class-aware) sampling, SGD nesterov lr 0.01 for batch
# 512, weight decay 5e-4, 5 epochs, cosine to 0.
# Train stage 1 first (ride_resnet50_8xb32_imagenet-lt_90e.py), then tools/dist_train.sh THIS_CONFIG 8
# Recipe: ./_base_/ride-ea_5e.py.
_base_ = ['./_base_/ride_resnet50_imagenet-lt.py', './_base_/ride-ea_5e.py']
load_from = 'work_dirs/ride_resnet50_8xb32_imagenet-lt_90e/epoch_90.pth'
# RIDEClassifier: at test time each expert runs only for the samples the router sends to it
model = dict(type='RIDEClassifier', head=dict(router=dict(top_k=50, pos_weight=100.0)))
train_dataloader = dict(batch_size=64, sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1,
                                                    num_samples='dataset'))
