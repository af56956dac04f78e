# RIDE stage 2, expert assignment (CIFAR-100-LT, ResNet-32): the stage-1 RIDE model is loaded and frozen (BatchNorm in
# eval mode) and only the router learns, from "the experts so far are wrong and a later one fixes it" (BCE, pos_weight
# 100), with the top-30 mean logits as input; at test time each sample adds experts while the router says so. Official
# configs/config_imbalance_cifar100_ride_ea.json: n_gpu 1, batch 512, balanced (class-aware) sampling, SGD nesterov
# lr 0.01, weight decay 5e-4, 5 epochs, cosine to 0.
# Train stage 1 first (ride_resnet32_1xb128_cifar100-lt-if100_200e.py), then python tools/train.py THIS_CONFIG
# Recipe: ./_base_/ride-ea_5e.py.
_base_ = ['./_base_/ride_resnet32_cifar100-lt.py', './_base_/ride-ea_5e.py']
load_from = 'work_dirs/ride_resnet32_1xb128_cifar100-lt-if100_200e/epoch_200.pth'
# RIDEClassifier: at test time each expert runs only for the samples the router sends to it
model = dict(type='RIDEClassifier', head=dict(router=dict(top_k=30, pos_weight=100.0)))
train_dataloader = dict(batch_size=512, sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1,
                                                     num_samples='dataset'))
